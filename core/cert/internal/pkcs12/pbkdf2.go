package pkcs12

// This file is not from go-pkcs12 (which calls golang.org/x/crypto/pbkdf2): PBKDF2 is
// written out here so that it runs only on reserved work and stops when its context
// ends; crypto/pbkdf2 offers neither.

import (
	"crypto/hmac"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"hash"
)

// meter counts iterations and hands them to the budget every ctxCheckInterval, which
// is when the context is looked at.
type meter struct {
	b       *Budget
	pending int
}

func (m *meter) step() error {
	m.pending++
	if m.pending < ctxCheckInterval {
		return nil
	}
	n := m.pending
	m.pending = 0
	return m.b.tick(n)
}

func (m *meter) flush() {
	m.b.spent += int64(m.pending)
	m.pending = 0
}

// PBKDF2 derives keyLen bytes as RFC 8018 section 5.2 says. Its work must have been
// reserved (see Reserve and PBKDF2Work); it returns the context's error if the
// context ends first.
func (b *Budget) PBKDF2(prf func() hash.Hash, password, salt []byte, iterations, keyLen int) ([]byte, error) {
	if iterations < 1 || keyLen < 1 {
		return nil, errors.New("pkcs12: PBKDF2 needs a positive iteration count and key length")
	}
	if err := b.take(PBKDF2Work(prf, iterations, keyLen)); err != nil {
		return nil, err
	}
	m := meter{b: b}
	defer m.flush()
	mac := hmac.New(prf, password)
	hLen := mac.Size()
	n := blocks(keyLen, hLen)
	out := make([]byte, 0, n*hLen)
	u := make([]byte, 0, hLen)
	var index [4]byte
	for block := 1; block <= n; block++ {
		mac.Reset()
		mac.Write(salt)
		binary.BigEndian.PutUint32(index[:], uint32(block))
		mac.Write(index[:])
		start := len(out)
		out = mac.Sum(out)
		t := out[start:]
		u = append(u[:0], t...)
		if err := m.step(); err != nil {
			return nil, err
		}
		for i := 2; i <= iterations; i++ {
			mac.Reset()
			mac.Write(u)
			u = mac.Sum(u[:0])
			subtle.XORBytes(t, t, u)
			if err := m.step(); err != nil {
				return nil, err
			}
		}
	}
	return out[:keyLen], nil
}
