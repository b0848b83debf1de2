package profile

import (
	"fmt"
	"strings"
)

// Authentication methods (SPEC §14).
const (
	MethodCertificate     = "certificate"
	MethodSecret          = "secret"
	MethodFederated       = "federated"
	MethodManagedIdentity = "managedIdentity"
)

// Federated token sources other than a file.
const (
	SourceGitHubActions  = "github-actions"
	SourceAzurePipelines = "azure-pipelines"
)

// DefaultFederatedAudience is the audience Entra expects of a federated token.
const DefaultFederatedAudience = "api://AzureADTokenExchange"

// Method is how the profile signs in: authMethod, else what useCertificate says (the
// seed's shape). Every decision "certificate or secret or …" goes through here.
func (p *Profile) Method() string {
	if p.AuthMethod != "" {
		return p.AuthMethod
	}
	if p.UseCertificate {
		return MethodCertificate
	}
	return MethodSecret
}

// SetMethod sets authMethod and keeps useCertificate, which the seed's readers look at,
// in step with it. The fields of the other methods are cleared.
func (p *Profile) SetMethod(m string) {
	p.AuthMethod = m
	if m == MethodCertificate || m == MethodSecret {
		// The seed's shape says it with useCertificate alone.
		p.AuthMethod = ""
	}
	p.UseCertificate = m == MethodCertificate
	if m != MethodCertificate {
		p.CertificatePath, p.CertificateThumbprint, p.CertificateStore, p.CertificateStoreLocation, p.CertificateStoreOptions = "", "", "", "", nil
	}
	if m != MethodFederated {
		p.FederatedTokenFile, p.FederatedTokenSource, p.FederatedAudience, p.ServiceConnectionID = "", "", "", ""
	}
	if m != MethodManagedIdentity {
		p.ManagedIdentityClientID = ""
	}
}

// FederatedSource names where a federated profile's token comes from: "file:PATH",
// "github-actions" or "azure-pipelines".
func (p *Profile) FederatedSource() string {
	if p.FederatedTokenFile != "" {
		return "file:" + p.FederatedTokenFile
	}
	return p.FederatedTokenSource
}

// Audience is the federated token's audience: federatedAudience, else the default.
func (p *Profile) Audience() string {
	if p.FederatedAudience != "" {
		return p.FederatedAudience
	}
	return DefaultFederatedAudience
}

// validMethod checks the fields of the profile's method.
func (p *Profile) validMethod() error {
	switch m := p.Method(); m {
	case MethodCertificate, MethodSecret:
	case MethodFederated:
		switch {
		case p.FederatedTokenFile == "" && p.FederatedTokenSource == "":
			return fieldErr("federatedTokenFile", "authMethod federated needs federatedTokenFile or federatedTokenSource (%s or %s)", SourceGitHubActions, SourceAzurePipelines)
		case p.FederatedTokenFile != "" && p.FederatedTokenSource != "":
			return fieldErr("federatedTokenSource", "federatedTokenFile and federatedTokenSource are alternatives: give one")
		}
		switch p.FederatedTokenSource {
		case "", SourceGitHubActions, SourceAzurePipelines:
		default:
			return fieldErr("federatedTokenSource", "federatedTokenSource %q must be %s or %s", p.FederatedTokenSource, SourceGitHubActions, SourceAzurePipelines)
		}
		if p.UseCertificate {
			return fieldErr("useCertificate", "useCertificate is true but authMethod is federated")
		}
	case MethodManagedIdentity:
		if id := p.ManagedIdentityClientID; id != "" && !ValidGUID(id) {
			return fieldErr("managedIdentityClientId", "managedIdentityClientId %q is not a GUID (the user-assigned identity's client ID)", id)
		}
		if p.UseCertificate {
			return fieldErr("useCertificate", "useCertificate is true but authMethod is managedIdentity")
		}
	default:
		return fieldErr("authMethod", "authMethod %q must be %s", m, strings.Join([]string{MethodCertificate, MethodSecret, MethodFederated, MethodManagedIdentity}, ", "))
	}
	return nil
}

// MethodLabel says how a profile signs in, for people.
func (p *Profile) MethodLabel() string {
	switch p.Method() {
	case MethodFederated:
		if p.FederatedTokenFile != "" {
			return "federated token (file " + p.FederatedTokenFile + ")"
		}
		return "federated token (" + p.FederatedTokenSource + ")"
	case MethodManagedIdentity:
		if p.ManagedIdentityClientID != "" {
			return fmt.Sprintf("managed identity (user-assigned %s)", p.ManagedIdentityClientID)
		}
		return "managed identity (system-assigned)"
	case MethodSecret:
		return "client secret"
	}
	if p.CertificateStore != "" {
		return "certificate (" + p.CertificateStore + ")"
	}
	return "certificate"
}
