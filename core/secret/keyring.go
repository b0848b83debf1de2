package secret

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringService is the service name entratool's items carry in the OS keyring.
const KeyringService = "entratool"

// DefaultKeyringTimeout bounds every keyring call. A Secret Service that waits for an
// unlock prompt nobody can see (headless, SSH, CI) would otherwise block forever.
const DefaultKeyringTimeout = 3 * time.Second

// ErrKeyringUnreachable is wrapped by every keyring error other than "not found": no
// bus, no Secret Service, a locked collection, or no answer in time.
var ErrKeyringUnreachable = errors.New("keyring unreachable")

// keyringTooBig is the advice for a secret the OS keyring cannot hold.
const keyringTooBig = "choose another store with --secret-store file or env"

// Keyring stores secrets in the OS keyring (Secret Service on Linux, Keychain on macOS,
// Credential Manager on Windows) under service "entratool", account = key.
type Keyring struct {
	// Timeout bounds each call in addition to the caller's context.
	Timeout time.Duration
}

// NewKeyring returns the keyring store with that per-call timeout (<= 0: the default).
func NewKeyring(timeout time.Duration) *Keyring {
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	return &Keyring{Timeout: timeout}
}

func (k *Keyring) Name() string { return KindKeyring }

func (k *Keyring) Get(ctx context.Context, key string) (string, error) {
	v, err := k.call(ctx, func() (string, error) { return keyring.Get(KeyringService, key) })
	if errors.Is(err, keyring.ErrNotFound) {
		return "", fmt.Errorf("%w: %s in the keyring", ErrNotFound, key)
	}
	if err != nil {
		return "", k.explain("read", key, err)
	}
	return v, nil
}

func (k *Keyring) Set(ctx context.Context, key, value string) error {
	_, err := k.call(ctx, func() (string, error) { return "", keyring.Set(KeyringService, key, value) })
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return fmt.Errorf("store %s: the secret is too large for this keyring: %s", key, keyringTooBig)
	}
	if err != nil {
		return k.explain("store", key, err)
	}
	return nil
}

func (k *Keyring) Delete(ctx context.Context, key string) error {
	_, err := k.call(ctx, func() (string, error) { return "", keyring.Delete(KeyringService, key) })
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return k.explain("delete", key, err)
}

// checkKey is never stored: reading it tells whether the keyring answers at all.
const checkKey = "entratool-reachability-check"

// Check reports whether the keyring answers, within the same bound as every call, so
// that a command can find out before it asks for a secret it could not store.
func (k *Keyring) Check(ctx context.Context) error {
	_, err := k.Get(ctx, checkKey)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Check reports whether s can be used now: the keyring is asked (within its
// timeout); the file and env stores always can.
func Check(ctx context.Context, s Store) error {
	if c, ok := s.(interface{ Check(context.Context) error }); ok {
		return c.Check(ctx)
	}
	return nil
}

// errTimedOut marks a call abandoned after Timeout.
type errTimedOut struct{ after time.Duration }

func (e errTimedOut) Error() string {
	return fmt.Sprintf("no answer from the keyring within %s", e.after)
}

// call runs op in its own goroutine and stops waiting when ctx ends or Timeout passes.
// An abandoned op keeps its goroutine until the keyring library returns (perhaps never);
// the buffered channel lets it finish without a reader.
func (k *Keyring) call(ctx context.Context, op func() (string, error)) (string, error) {
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := op()
		done <- result{v, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		return "", errTimedOut{timeout}
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// explain turns a keyring failure into one line in plain words: what is missing, not
// which D-Bus call failed (someone at a headless box has no use for "dbus-launch").
// Advice naming a command is the caller's: only it knows which command could act.
// The causes come from D-Bus or the OS and never contain the secret.
func (k *Keyring) explain(verb, key string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("keyring %s %s: %w", verb, key, err)
	}
	return fmt.Errorf("%w: %s", ErrKeyringUnreachable, keyringReason(err))
}

// keyringReason says why the keyring did not answer, for the causes met on Linux (no
// bus, a dead bus, no Secret Service, a locked or silent keyring); anything else is
// the cause itself on one line.
func keyringReason(err error) string {
	var timedOut errTimedOut
	cause := strings.Join(strings.Fields(err.Error()), " ")
	lower := strings.ToLower(cause)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(lower, w) {
				return true
			}
		}
		return false
	}
	switch {
	case errors.As(err, &timedOut):
		return cause + " (it may be locked, waiting for an unlock prompt nobody can see)"
	case errors.Is(err, context.DeadlineExceeded):
		return "gave up waiting for the keyring: the command ran out of time"
	case has("dbus-launch", "autolaunch", "x11", "display"):
		return "there is no D-Bus session here (usual on a headless or SSH login)"
	case has("org.freedesktop.secrets", "serviceunknown", "not provided by any .service"):
		return "no Secret Service (such as gnome-keyring) is running in this session"
	case has("dial unix", "connect:", "connection refused", "no such file"):
		return "cannot connect to the D-Bus session bus (DBUS_SESSION_BUS_ADDRESS names a bus that is gone)"
	case has("dismissed", "locked"):
		return "the keyring is locked and was not unlocked"
	}
	return cause
}
