package profile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entratool/entratool/core/fsutil"
)

func TestUpdateProfileChangesOnlyThatProfile(t *testing.T) {
	s := newStore(t)
	writeFile(t, s, `{"defaultProfile":"b","profiles":[`+
		`{"name":"a","clientId":"`+guid1+`","tenantId":"`+guid2+`","useCertificate":false,"future":{"x":1}},`+
		`{"name":"b","clientId":"`+guid1+`","tenantId":"`+guid2+`","useCertificate":false}],"top":true}`)
	saved, err := s.UpdateProfile(context.Background(), "a", func(p *Profile) error {
		p.Scope = "api://x/.default"
		p.GitHosts = append(p.GitHosts, "git.example.com")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if saved.Name != "a" || saved.Scope != "api://x/.default" {
		t.Fatalf("returned %+v", saved)
	}
	saved.Scope = "changed after the save" // a copy: the next load must not see it
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Get("a"), c.Get("b")
	if a.Scope != "api://x/.default" || len(a.GitHosts) != 1 || b.Scope != "" || c.DefaultProfile != "b" {
		t.Fatalf("after UpdateProfile: a %+v, b %+v, default %q", a, b, c.DefaultProfile)
	}
	if _, ok := a.Extra("future"); !ok {
		t.Error("unknown key of the profile lost")
	}
	if !strings.Contains(readFile(t, s), `"top": true`) {
		t.Errorf("unknown top-level key lost:\n%s", readFile(t, s))
	}
	assertNoTempFiles(t, s.Home)
}

func TestUpdateProfileOfAMissingProfile(t *testing.T) {
	s := newStore(t)
	writeFile(t, s, seedFile)
	_, err := s.UpdateProfile(context.Background(), "gone", func(*Profile) error {
		t.Error("fn ran for a missing profile")
		return nil
	})
	if !errors.Is(err, ErrProfileDeleted) {
		t.Fatalf("err = %v, want ErrProfileDeleted", err)
	}
	if want := "profile 'gone' was deleted meanwhile; nothing was saved"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if readFile(t, s) != seedFile {
		t.Error("file written")
	}
	// The same error, from Config.Existing, for changes that touch more than one profile.
	c, _ := s.Load()
	if _, err := c.Existing("gone"); !errors.Is(err, ErrProfileDeleted) || !strings.Contains(err.Error(), "'gone'") {
		t.Errorf("Existing: %v", err)
	}
	if p, err := c.Existing("production-service"); err != nil || p == nil {
		t.Errorf("Existing of a present profile: %v, %v", p, err)
	}
}

func TestUpdateProfileWritesNothingOnFailure(t *testing.T) {
	s := newStore(t)
	writeFile(t, s, seedFile)
	boom := errors.New("boom")
	for name, fn := range map[string]func(*Profile) error{
		"fn fails":      func(p *Profile) error { p.Scope = "x"; return boom },
		"invalid":       func(p *Profile) error { p.ClientID = "nope"; return nil },
		"renamed":       func(p *Profile) error { p.Name = "other"; return nil },
		"invalid store": func(p *Profile) error { p.SecretStore = "vault"; return nil },
	} {
		saved, err := s.UpdateProfile(context.Background(), "production-service", fn)
		if err == nil || saved != nil {
			t.Errorf("%s: saved %+v, err %v", name, saved, err)
		}
		if name == "fn fails" && !errors.Is(err, boom) {
			t.Errorf("%s: err = %v, want fn's", name, err)
		}
		if errors.Is(err, ErrProfileDeleted) {
			t.Errorf("%s: err = %v claims a deletion", name, err)
		}
		if readFile(t, s) != seedFile {
			t.Fatalf("%s: file written", name)
		}
	}
}

// A profile deleted by another command between a caller's read and its change: the
// change waits for the lock, then finds the profile gone and writes nothing, which would
// otherwise bring the profile back.
func TestUpdateProfileConcurrentDeletion(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Update(ctx, func(c *Config) error {
		c.Put(validProfile("keep"))
		c.Put(validProfile("doomed"))
		c.DefaultProfile = "doomed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c, err := s.Load() // the caller's read
	if err != nil || c.Get("doomed") == nil {
		t.Fatal(c, err)
	}
	// Another command holds the lock, and deletes the profile while the change waits.
	unlock, err := fsutil.Lock(ctx, s.Path()+".lock")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.UpdateProfile(ctx, "doomed", func(p *Profile) error {
			p.Scope = "api://late/.default"
			return nil
		})
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // the change is waiting for the lock
	c.Delete("doomed")
	if err := fsutil.WriteFileAtomic(s.Path(), c.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	unlock()
	if err := <-done; !errors.Is(err, ErrProfileDeleted) {
		t.Fatalf("err = %v, want ErrProfileDeleted", err)
	}
	after, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if after.Get("doomed") != nil || after.Get("keep") == nil || after.DefaultProfile != "" {
		t.Fatalf("after: %v, default %q", after.Names(), after.DefaultProfile)
	}
}

// Many changes race one deletion: each either lands before it or fails with
// ErrProfileDeleted; none brings the profile back.
func TestUpdateProfileRacesDeletion(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Update(ctx, func(c *Config) error { c.Put(validProfile("p")); return nil }); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.UpdateProfile(ctx, "p", func(p *Profile) error {
				p.Scope = fmt.Sprintf("api://%d/.default", i)
				return nil
			})
			errs <- err
		})
	}
	wg.Go(func() {
		if err := s.Update(ctx, func(c *Config) error { c.Delete("p"); return nil }); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, ErrProfileDeleted) {
			t.Errorf("unexpected error %v", err)
		}
	}
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Get("p") != nil {
		t.Fatal("a change brought the deleted profile back")
	}
}

func TestRevertChange(t *testing.T) {
	before := validProfile("r")
	before.Scope = "api://before/.default"
	before.GitHosts = []string{"a.example.com"}
	after := before.Clone()
	after.Scope = "api://edited/.default"
	after.SendX5C = true
	after.GitHosts = nil // the edit emptied it
	after.Registries = []string{"r.azurecr.io"}

	// Meanwhile another command changed the scope again and the subscription.
	now := after.Clone()
	now.Scope = "api://other/.default"
	now.SubscriptionID = guid1
	now.RevertChange(before, after)

	switch {
	case now.Scope != "api://other/.default":
		t.Errorf("scope %q: a later change was taken back", now.Scope)
	case now.SendX5C:
		t.Error("sendX5C not taken back")
	case len(now.GitHosts) != 1 || now.GitHosts[0] != "a.example.com":
		t.Errorf("gitHosts %v not restored", now.GitHosts)
	case len(now.Registries) != 0:
		t.Errorf("registries %v not taken back", now.Registries)
	case now.SubscriptionID != guid1:
		t.Error("an untouched field was changed")
	}
	now.GitHosts[0] = "changed"
	if before.GitHosts[0] != "a.example.com" {
		t.Error("the reverted profile shares its slice with before")
	}

	// Empty and missing lists are one value: no change to take back.
	e1, e2 := validProfile("e"), validProfile("e")
	e1.GitHosts, e2.GitHosts = []string{}, nil
	cur := validProfile("e")
	cur.GitHosts = nil
	cur.RevertChange(e1, e2)
	if cur.GitHosts != nil {
		t.Errorf("gitHosts %#v", cur.GitHosts)
	}
}
