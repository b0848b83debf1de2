package profile

import "reflect"

// RevertChange takes back on p the change that turned before into after, field by field:
// a field that differs between before and after is set back to its value in before, but
// only where p still holds its value in after. A field that another command changed since
// keeps that change, and a field the change did not touch is left alone. Unknown keys are
// never touched. An empty list and a missing one are the same value.
func (p *Profile) RevertChange(before, after *Profile) {
	before = before.Clone() // p must not share slices or maps with the caller's copy
	pv, bv, av := reflect.ValueOf(p).Elem(), reflect.ValueOf(before).Elem(), reflect.ValueOf(after).Elem()
	t := pv.Type()
	for i := range t.NumField() {
		if !t.Field(i).IsExported() {
			continue
		}
		old, changed, now := bv.Field(i), av.Field(i), pv.Field(i)
		if sameValue(old, changed) || !sameValue(now, changed) {
			continue
		}
		now.Set(old)
	}
}

// sameValue is reflect.DeepEqual, but for an empty slice or map, which is written as
// a missing one.
func sameValue(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Slice, reflect.Map:
		if a.Len() == 0 && b.Len() == 0 {
			return true
		}
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}
