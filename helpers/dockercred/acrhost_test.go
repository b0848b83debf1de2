package dockercred

import "testing"

func TestIsACRHost(t *testing.T) {
	for host, want := range map[string]bool{
		"myreg.azurecr.io":             true,
		"MyReg.AzureCR.IO":             true,
		"myreg.azurecr.io:443":         true,
		"myreg.azurecr.io:5000":        true, // named like ACR; the port is not the name
		"https://myreg.azurecr.io/v2/": true,
		"gov.azurecr.us":               true,
		"cn.azurecr.cn":                true,
		"a.b.azurecr.io":               true,
		"azurecr.io":                   false, // no registry name in front
		".azurecr.io":                  false,
		"myreg.azurecr.io.example.com": false,
		"myreg-azurecr.io":             false,
		"myregazurecr.io":              false,
		"registry.example.com:5000":    false,
		"127.0.0.1:5000":               false,
		"[::1]:5000":                   false,
		"http://myreg.azurecr.io":      false, // never served
		"":                             false,
	} {
		if got := IsACRHost(host); got != want {
			t.Errorf("IsACRHost(%q) = %v, want %v", host, got, want)
		}
	}
}
