package jsonpos

import "testing"

func TestLineCol(t *testing.T) {
	data := []byte("\xef\xbb\xbf{\n  \"é\": x\n}")
	for _, c := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {3, 1, 1}, {4, 1, 2}, {5, 2, 1}, {13, 2, 8}, {-4, 1, 1}, {999, 3, 2}} {
		if l, col := LineCol(data, c.off); l != c.line || col != c.col {
			t.Errorf("LineCol(%d) = %d:%d, want %d:%d", c.off, l, col, c.line, c.col)
		}
	}
	if Kind('[') != "an array" || Kind('1') != "a number" {
		t.Fatal("Kind")
	}
}
