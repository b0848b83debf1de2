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
