package profile

import (
	"os"
	"path/filepath"
	"runtime"
)

// MISource is where a managed identity's tokens would come from on this machine.
type MISource struct {
	Name string // App Service, Service Fabric, Azure ML, Cloud Shell, Azure Arc or IMDS
	Why  string // the variables (or file) that decided it, for people
	// NoUserAssigned is MSAL's reason for refusing a user-assigned identity on this
	// source, "" when it accepts one.
	NoUserAssigned string
}

// The variables MSAL Go's managed-identity support reads to find its source.
const (
	EnvIdentityEndpoint   = "IDENTITY_ENDPOINT"
	EnvIdentityHeader     = "IDENTITY_HEADER"
	EnvIdentityThumbprint = "IDENTITY_SERVER_THUMBPRINT"
	EnvIMDSEndpoint       = "IMDS_ENDPOINT"
	EnvMSIEndpoint        = "MSI_ENDPOINT"
	EnvMSISecret          = "MSI_SECRET"
)

// DetectMISource names the source MSAL Go's managedidentity.GetSource would pick, in
// its order, without linking MSAL (the fronts and config show/doctor describe it; only
// the engine's token path talks to it). Azure Arc is also recognised, as MSAL does, by
// its agent's himds executable on disk.
func DetectMISource(getenv func(string) string) MISource {
	endpoint, header := getenv(EnvIdentityEndpoint), getenv(EnvIdentityHeader)
	switch {
	case endpoint != "" && header != "" && getenv(EnvIdentityThumbprint) != "":
		return MISource{Name: "Service Fabric", Why: EnvIdentityEndpoint + ", " + EnvIdentityHeader + ", " + EnvIdentityThumbprint,
			NoUserAssigned: "Service Fabric API doesn't support specifying a user-assigned identity. The identity is determined by cluster resource configuration"}
	case endpoint != "" && header != "":
		return MISource{Name: "App Service", Why: EnvIdentityEndpoint + ", " + EnvIdentityHeader}
	case getenv(EnvMSIEndpoint) != "" && getenv(EnvMSISecret) != "":
		return MISource{Name: "Azure ML", Why: EnvMSIEndpoint + ", " + EnvMSISecret}
	case getenv(EnvMSIEndpoint) != "":
		return MISource{Name: "Cloud Shell", Why: EnvMSIEndpoint, NoUserAssigned: "Cloud Shell doesn't support user-assigned managed identities"}
	case endpoint != "" && getenv(EnvIMDSEndpoint) != "":
		return MISource{Name: "Azure Arc", Why: EnvIdentityEndpoint + ", " + EnvIMDSEndpoint}
	}
	if p := arcAgentPath(getenv); p != "" {
		if _, err := os.Stat(p); err == nil {
			return MISource{Name: "Azure Arc", Why: p}
		}
	}
	return MISource{Name: "IMDS", Why: "no identity endpoint variable set: the instance metadata service of an Azure VM, VM scale set or AKS node"}
}

// arcAgentPath is where the Azure Connected Machine agent's himds lives, as MSAL looks.
func arcAgentPath(getenv func(string) string) string {
	switch runtime.GOOS {
	case "linux":
		return "/opt/azcmagent/bin/himds"
	case "windows":
		if pd := getenv("ProgramData"); pd != "" {
			return filepath.Join(pd, "AzureConnectedMachineAgent", "himds.exe")
		}
	}
	return ""
}
