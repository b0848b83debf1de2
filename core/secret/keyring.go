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

const keyringAdvice = "choose another store with --secret-store file or ENTRATOOL_SECRET_STORE=env (" +
	EnvCertPassword + " / " + EnvClientSecret + ")"

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
		return fmt.Errorf("store %s: the secret is too large for this keyring: %s", key, keyringAdvice)
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

// explain turns a keyring failure into one line saying what to do instead. The causes
// come from D-Bus or the OS and never contain the secret.
func (k *Keyring) explain(verb, key string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("keyring %s %s: %w", verb, key, err)
	}
	cause := strings.Join(strings.Fields(err.Error()), " ")
	if errors.Is(err, context.DeadlineExceeded) {
		cause = "gave up waiting for the keyring: " + cause
	}
	return fmt.Errorf("%w (%s): %s", ErrKeyringUnreachable, cause, keyringAdvice)
}
