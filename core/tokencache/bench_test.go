package tokencache

import (
	"testing"
	"time"
)

func BenchmarkCacheGetHit(b *testing.B) {
	c := &Cache{Dir: b.TempDir()}
	k := testKey("https://graph.microsoft.com/.default")
	if err := c.Put(k, &Token{AccessToken: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.signature", ExpiresOn: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, ok := c.Get(k); !ok {
			b.Fatal("miss")
		}
	}
}

// BenchmarkExpiryWarningNotDue is what the expiry warning adds to a cache hit when the
// certificate has more than 30 days left: nothing but a comparison, the hit having read
// the memo already (Lookup hands it on).
func BenchmarkExpiryWarningNotDue(b *testing.B) {
	p, cacheDir, now := expiryFixture(b)
	c, ok := RememberedCert(p, cacheDir)
	if !ok {
		b.Fatal("no memo")
	}
	now = now.AddDate(0, 0, -60)
	for b.Loop() {
		if ExpiryWarningOf(p, c, cacheDir, now) != "" {
			b.Fatal("warned")
		}
	}
}

// BenchmarkExpiryWarningStamped is the cost within 30 days of expiry once today's
// warning was given: one read of the profile's stamp.
func BenchmarkExpiryWarningStamped(b *testing.B) {
	p, cacheDir, now := expiryFixture(b)
	c, _ := RememberedCert(p, cacheDir)
	if ExpiryWarningOf(p, c, cacheDir, now) == "" {
		b.Fatal("no first warning")
	}
	for b.Loop() {
		if ExpiryWarningOf(p, c, cacheDir, now) != "" {
			b.Fatal("warned twice")
		}
	}
}

// BenchmarkCacheLookupHit is the whole hit (memo read, token read) for scale.
func BenchmarkCacheLookupHit(b *testing.B) {
	p, cacheDir, _ := expiryFixture(b)
	c := &Cache{Dir: cacheDir}
	if err := c.Put(KeyFor(p, "s", "x5t:AB12"), &Token{AccessToken: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.signature", ExpiresOn: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := c.Lookup(p, "s"); err != nil {
			b.Fatal(err)
		}
	}
}
