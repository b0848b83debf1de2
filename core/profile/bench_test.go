package profile

import (
	"context"
	"fmt"
	"testing"

	"github.com/entratool/entratool/internal/testkit"
)

func BenchmarkLoadAndResolve(b *testing.B) { benchLoadAndResolve(b, (*Store).Load) }

// BenchmarkLoadHitAndResolve is BenchmarkLoadAndResolve on the fronts' path (LoadHit).
func BenchmarkLoadHitAndResolve(b *testing.B) { benchLoadAndResolve(b, (*Store).LoadHit) }

// benchLoadAndResolve times load and Resolve of the default profile, among five.
func benchLoadAndResolve(b *testing.B, load func(*Store) (*Config, error)) {
	s := &Store{Home: b.TempDir()}
	err := s.Update(context.Background(), func(c *Config) error {
		for i := 0; i < 5; i++ {
			c.Put(&Profile{Name: fmt.Sprintf("p%d", i), ClientID: testkit.ClientID, TenantID: testkit.TenantID,
				UseCertificate: true, CertificatePath: "/certs/c.pfx", Scope: "https://graph.microsoft.com/.default", GitHosts: []string{"dev.azure.com"}})
		}
		c.DefaultProfile = "p3"
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	getenv := func(string) string { return "" }
	for b.Loop() {
		cfg, err := load(s)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cfg.Resolve("", getenv); err != nil {
			b.Fatal(err)
		}
	}
}
