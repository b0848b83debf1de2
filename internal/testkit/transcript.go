// Package testkit holds helpers shared by the module's tests that are not about building
// binaries (see internal/testbin). It imports nothing of the module.
package testkit

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// Transcript collects what a process or goroutine writes (an io.Writer safe for
// concurrent use) and lets a test wait for text to appear in it: each Write wakes the
// waiters, so a wait ends as soon as the text is there, with no polling interval.
type Transcript struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed by the next Write; nil when nobody waits
}

func (t *Transcript) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.buf.Write(p)
	if t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
	return n, err
}

// String is everything written so far.
func (t *Transcript) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// WaitFor waits up to timeout for text to appear anywhere in the transcript and reports
// whether it did.
func (t *Transcript) WaitFor(text string, timeout time.Duration) bool {
	_, ok := t.WaitFrom(0, text, timeout)
	return ok
}

// WaitFrom waits up to timeout for text to appear at or after byte offset from, and
// returns the offset just past it (to wait for what comes next), or -1 and false.
func (t *Transcript) WaitFrom(from int, text string, timeout time.Duration) (int, bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		t.mu.Lock()
		b := t.buf.Bytes()
		if from <= len(b) {
			if i := bytes.Index(b[from:], []byte(text)); i >= 0 {
				t.mu.Unlock()
				return from + i + len(text), true
			}
		}
		if t.changed == nil {
			t.changed = make(chan struct{})
		}
		changed := t.changed
		t.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return -1, false
		}
	}
}

// Contains reports whether text has been written.
func (t *Transcript) Contains(text string) bool {
	return strings.Contains(t.String(), text)
}
