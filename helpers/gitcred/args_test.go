package gitcred

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	def := 30 * time.Second
	ok := []struct {
		args []string
		want Args
	}{
		{[]string{"get"}, Args{Action: "get", Timeout: def}},
		{[]string{"--profile", "prod", "get"}, Args{Profile: "prod", Action: "get", Timeout: def}},
		{[]string{"--profile=prod", "--bearer", "erase"}, Args{Profile: "prod", Bearer: true, Action: "erase", Timeout: def}},
		{[]string{"-p", "prod", "--timeout", "5s", "--debug", "store"}, Args{Profile: "prod", Debug: true, Action: "store", Timeout: 5 * time.Second}},
		{[]string{"--", "-weird-action"}, Args{Action: "-weird-action", Timeout: def}},
		{[]string{"capability"}, Args{Action: "capability", Timeout: def}},
		{[]string{"future-action"}, Args{Action: "future-action", Timeout: def}},
	}
	for _, c := range ok {
		got, err := ParseArgs(c.args)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseArgs(%q) = %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
	for _, bad := range [][]string{
		{}, {"--profile"}, {"--profile=", "get"}, {"--nope", "get"}, {"get", "erase"}, {"--timeout", "soon", "get"}, {"--timeout=-1s", "get"},
	} {
		if _, err := ParseArgs(bad); err == nil {
			t.Errorf("ParseArgs(%q): want an error", bad)
		}
	}
	if _, err := ParseArgs([]string{"--help"}); !errors.Is(err, ErrHelp) {
		t.Errorf("--help: %v", err)
	}
}
