package pkcs12

// This file is not from go-pkcs12: it is the work bound the fork exists for.

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"math/big"
)

// ctxCheckInterval is how many iterations a derivation runs between looks at its
// context: about a millisecond of hashing, so a deadline is noticed promptly while
// ctx.Err (a mutex) stays invisible in the profile.
const ctxCheckInterval = 4096

// Budget bounds the key-derivation work of one decode. Every iteration count is
// checked against a per-count cap when its parameters are parsed, and the work of
// every derivation (count × output blocks) must be reserved before it runs, so that
// a file is refused before any derivation when what it asks for, taken together,
// is too much. Derivations look at the context while they run.
//
// A Budget is for one goroutine; it is not safe for concurrent use.
type Budget struct {
	ctx      context.Context
	maxCount int64
	maxWork  int64
	spent    int64
	reserved int64
}

// NewBudget returns a budget allowing at most maxCount iterations per derivation and
// maxWork units (iterations × output blocks) in all.
func NewBudget(ctx context.Context, maxCount, maxWork int64) *Budget {
	return &Budget{ctx: ctx, maxCount: maxCount, maxWork: maxWork}
}

// Spent is the derivation work done so far, in the units Reserve takes. Tests use it
// to prove a refusal came before the work, rather than timing it.
func (b *Budget) Spent() int64 { return b.spent }

// Err is the context's error: a decode checks it up front so that a deadline that
// has already passed is reported as such, whatever the file holds.
func (b *Budget) Err() error { return b.ctx.Err() }

// IterationsError is an iteration count over the per-count cap.
type IterationsError struct {
	Count *big.Int
	Max   int64
}

func (e *IterationsError) Error() string {
	return fmt.Sprintf("pkcs12: key derivation asks for %s iterations, more than the %d accepted", FormatCount(e.Count), e.Max)
}

// FormatCount prints an iteration count, abbreviating the absurd ones a crafted file
// can hold (an INTEGER may be megabytes long).
func FormatCount(n *big.Int) string {
	if n.BitLen() > 128 {
		return fmt.Sprintf("over 2^%d", n.BitLen()-1)
	}
	return n.String()
}

// WorkError is a file whose derivations, each within the cap, add up to too much.
type WorkError struct {
	Work, Max int64
}

func (e *WorkError) Error() string {
	return fmt.Sprintf("pkcs12: key derivation would take %d iterations in all, more than the %d accepted", e.Work, e.Max)
}

// errNotReserved means a derivation was about to run without its work having been
// accounted for: a bug in this package, refused rather than done.
var errNotReserved = errors.New("pkcs12: internal error: key derivation not accounted for")

// CheckCount validates an iteration count as parsed from a file and returns it as an
// int. Counts below 1 are malformed; counts over the cap are refused.
func (b *Budget) CheckCount(n *big.Int) (int, error) {
	if n == nil || n.Sign() <= 0 {
		return 0, fmt.Errorf("pkcs12: iteration count %v is not positive", n)
	}
	if !n.IsInt64() || n.Int64() > b.maxCount {
		return 0, &IterationsError{Count: new(big.Int).Set(n), Max: b.maxCount}
	}
	return int(n.Int64()), nil
}

// Reserve accounts for work about to be done; it fails when the work already done,
// the work already reserved and this would exceed the budget.
func (b *Budget) Reserve(work int64) error {
	if work < 0 || work > b.maxWork-b.spent-b.reserved {
		return &WorkError{Work: saturatingAdd(b.spent+b.reserved, work), Max: b.maxWork}
	}
	b.reserved += work
	return nil
}

func saturatingAdd(a, b int64) int64 {
	if b > 0 && a > (1<<63-1)-b {
		return 1<<63 - 1
	}
	return a + b
}

// release drops reservations that were never used (a decode that failed part-way),
// so that a second attempt over the same budget is not charged for them twice.
func (b *Budget) release() { b.reserved = 0 }

// take moves work from reserved to about-to-be-spent; it is the one door every
// derivation goes through.
func (b *Budget) take(work int64) error {
	if work > b.reserved {
		return errNotReserved
	}
	b.reserved -= work
	return b.ctx.Err()
}

// tick records n iterations done and says whether to stop.
func (b *Budget) tick(n int) error {
	b.spent += int64(n)
	return b.ctx.Err()
}

// PBKDF2Work is the work PBKDF2 does: iterations for each output block.
func PBKDF2Work(prf func() hash.Hash, iterations, keyLen int) int64 {
	return int64(blocks(keyLen, prf().Size())) * int64(iterations)
}

// pkcs12KDFWork is the work of one RFC 7292 B.2 derivation of size bytes with a
// hash of u-byte output.
func pkcs12KDFWork(u, iterations, size int) int64 {
	return int64(blocks(size, u)) * int64(iterations)
}

func blocks(n, size int) int { return (n + size - 1) / size }
