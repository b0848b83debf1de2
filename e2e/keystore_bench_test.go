package e2e

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"time"
)

// TestKeyStoreColdCost is the plugin figure of `make bench` (scripts/bench.sh sets
// ENTRATOOL_BENCH=1): cold tokens through a PFX and through the PKCS#11 plugin
// (SoftHSM2), alternated, medians printed. Every token is checked against the authority.
func TestKeyStoreColdCost(t *testing.T) {
	if os.Getenv("ENTRATOOL_BENCH") == "" {
		t.Skip("a measurement for make bench; run with ENTRATOOL_BENCH=1")
	}
	w, tok := hsmWorld(t)
	cf := w.newCert("pfx", "pw")
	w.register(tok.Cert, cf.leaf)
	w.certProfile("pfx", cf, cf.pfx)
	const runs = 11
	var pfx, hsm []time.Duration
	for i := 0; i < runs; i++ {
		for _, c := range []struct {
			profile string
			into    *[]time.Duration
		}{{"pfx", &pfx}, {"hsm", &hsm}} {
			start := time.Now()
			out := w.mustRun("", "entratool", "get-token", "-p", c.profile, "--force-refresh")
			*c.into = append(*c.into, time.Since(start))
			w.claims(out, "https://graph.microsoft.com")
		}
	}
	med := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	fmt.Printf("| cold token, PFX file | %.1f ms |\n| cold token, PKCS#11 plugin (SoftHSM2: start + sign) | %.1f ms (+%.1f ms) |\n",
		ms(med(pfx)), ms(med(hsm)), ms(med(hsm)-med(pfx)))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
