package testkit

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"
)

func TestTranscriptWaits(t *testing.T) {
	var tr Transcript
	proceed := make(chan struct{})
	go func() {
		io.WriteString(&tr, "starting\n")
		<-proceed
		for i := range 3 {
			fmt.Fprintf(&tr, "line %d\n", i)
		}
		io.WriteString(&tr, "ready")
	}()
	end, ok := tr.WaitFrom(0, "starting", 10*time.Second)
	if !ok || end != len("starting") {
		t.Fatalf("WaitFrom = %d, %v", end, ok)
	}
	close(proceed)
	if !tr.WaitFor("ready", 10*time.Second) {
		t.Fatalf("no ready in %q", tr.String())
	}
	// Offsets: "line 0" lies before the end of "line 1", so it is not found after it.
	end, ok = tr.WaitFrom(0, "line 1", time.Second)
	if !ok {
		t.Fatal("line 1")
	}
	if _, ok := tr.WaitFrom(end, "line 0", 10*time.Millisecond); ok {
		t.Fatal("found text before the offset")
	}
	if _, ok := tr.WaitFrom(1<<20, "x", time.Millisecond); ok {
		t.Fatal("offset past the end")
	}
	if !tr.Contains("line 2") || tr.Contains("line 3") {
		t.Fatalf("Contains: %q", tr.String())
	}
}

func TestTranscriptTimeoutAndConcurrentWaiters(t *testing.T) {
	var tr Transcript
	start := time.Now()
	if tr.WaitFor("never", 20*time.Millisecond) {
		t.Fatal("found text never written")
	}
	if d := time.Since(start); d < 20*time.Millisecond || d > 5*time.Second {
		t.Fatalf("timeout after %v", d)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if !tr.WaitFor("go", 10*time.Second) {
				t.Error("a waiter missed the write")
			}
		})
	}
	io.WriteString(&tr, "g")
	io.WriteString(&tr, "o")
	wg.Wait()
}
