package cert

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCheckValidityAndWarning(t *testing.T) {
	key := sharedKey(t)
	notBefore := time.Date(2023, 1, 2, 12, 0, 0, 0, time.UTC)
	notAfter := time.Date(2024, 1, 2, 12, 0, 0, 0, time.UTC)
	c := goCert(t, "MyApp", &key.PublicKey, key, nil, notBefore, notAfter, false)
	tp := ThumbprintSHA1(c)

	t.Run("expired", func(t *testing.T) {
		err := CheckValidity(c, notAfter.Add(time.Second))
		assertErr(t, err, ErrExpired, "certificate CN=MyApp expired on 2024-01-02 (thumbprint "+tp+")")
	})
	t.Run("not yet valid", func(t *testing.T) {
		err := CheckValidity(c, notBefore.Add(-time.Minute))
		assertErr(t, err, ErrNotYetValid,
			"certificate CN=MyApp is not valid until 2023-01-02 12:00:00 UTC (thumbprint "+tp+"); check this machine's clock")
		if errors.Is(err, ErrExpired) {
			t.Error("not-yet-valid also reads as expired")
		}
	})
	t.Run("valid at both edges", func(t *testing.T) {
		for _, now := range []time.Time{notBefore, notAfter, notBefore.Add(24 * time.Hour)} {
			if err := CheckValidity(c, now); err != nil {
				t.Errorf("at %v: %v", now, err)
			}
		}
	})
	t.Run("expiry warning", func(t *testing.T) {
		const within = 30 * 24 * time.Hour
		cases := []struct {
			now  time.Time
			want string
		}{
			{notAfter.Add(-10*24*time.Hour - time.Hour), "expires in 10 days, on 2024-01-02"},
			{notAfter.Add(-36 * time.Hour), "expires in 1 day, on 2024-01-02"},
			{notAfter.Add(-time.Hour), "expires in less than a day, on 2024-01-02"},
			{notAfter.Add(-31 * 24 * time.Hour), ""},
			{notAfter.Add(time.Hour), ""}, // expired: CheckValidity's job
		}
		for _, tc := range cases {
			got := ExpiryWarning(c, tc.now, within)
			if tc.want == "" {
				if got != "" {
					t.Errorf("at %v: unexpected warning %q", tc.now, got)
				}
				continue
			}
			want := "warning: certificate CN=MyApp " + tc.want + " (thumbprint " + tp +
				"); renew it and upload the new certificate to the app registration"
			if got != want {
				t.Errorf("at %v:\n got %q\nwant %q", tc.now, got, want)
			}
		}
	})
	t.Run("no CN", func(t *testing.T) {
		c2 := goCert(t, "", &key.PublicKey, key, nil, notBefore, notAfter, false)
		err := CheckValidity(c2, notAfter.Add(time.Hour))
		if err == nil || !strings.HasPrefix(err.Error(), "certificate with empty subject expired on 2024-01-02") {
			t.Errorf("got %v", err)
		}
	})
}

func TestInspect(t *testing.T) {
	key := sharedKey(t)
	notBefore := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	notAfter := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	ca := goCert(t, "Issuer CA", &key.PublicKey, key, nil, notBefore, notAfter, true)
	c := goCert(t, "MyApp", &key.PublicKey, key, ca, notBefore, notAfter, false)

	info := Inspect(c, notAfter.Add(-(10*24*time.Hour + time.Hour)))
	if info.Subject != "CN=MyApp" || info.Issuer != "CN=Issuer CA" || info.KeyType != "RSA" || info.KeySize != 2048 ||
		info.DaysLeft != 10 || !info.NotAfter.Equal(notAfter) || !info.NotBefore.Equal(notBefore) {
		t.Errorf("Inspect = %+v", info)
	}
	if info.ThumbprintSHA1 != ThumbprintSHA1(c) || info.ThumbprintSHA256 != ThumbprintSHA256(c) {
		t.Errorf("thumbprints %s %s", info.ThumbprintSHA1, info.ThumbprintSHA256)
	}
	if !regexp.MustCompile(`^[0-9A-F]{40}$`).MatchString(info.ThumbprintSHA1) ||
		!regexp.MustCompile(`^[0-9A-F]{64}$`).MatchString(info.ThumbprintSHA256) {
		t.Errorf("thumbprints not upper-case hex: %s %s", info.ThumbprintSHA1, info.ThumbprintSHA256)
	}
	if !regexp.MustCompile(`^([0-9A-F]{2})+$`).MatchString(info.SerialNumber) {
		t.Errorf("serial %q is not even-length upper-case hex", info.SerialNumber)
	}
	if expired := Inspect(c, notAfter.Add(36*time.Hour)); expired.DaysLeft != -2 {
		t.Errorf("DaysLeft after expiry = %d, want -2", expired.DaysLeft)
	}

	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"subject", "issuer", "serialNumber", "notBefore", "notAfter", "daysLeft",
		"thumbprintSha1", "thumbprintSha256", "keyType", "keySize"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if len(m) != 10 {
		t.Errorf("JSON has %d keys, want 10: %s", len(m), b)
	}

	ec := ecKey(t)
	ecCert := goCert(t, "ec", &ec.PublicKey, ec, nil, notBefore, notAfter, false)
	if i := Inspect(ecCert, notBefore); i.KeyType != "ECDSA" || i.KeySize != 256 {
		t.Errorf("ECDSA Inspect = %s %d", i.KeyType, i.KeySize)
	}
}
