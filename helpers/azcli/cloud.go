package azcli

import (
	"fmt"
	"strings"

	"github.com/entratool/entratool/core/weburl"
)

// Cloud is the part of an Azure CLI cloud definition the token commands use
// (azure-cli-core's cloud.py, AZURE_*_CLOUD endpoints).
type Cloud struct {
	Name string // az's environmentName: AzureCloud, AzureUSGovernment, AzureChinaCloud
	// Resources maps --resource-type values to resource ids; a type missing here is one
	// the cloud does not have (az fails the same way).
	Resources Resources
}

// Resources is a cloud's --resource-type table. Pairs, not a map: the linker lays them
// out, where three maps were built by package initialisation in every az call.
type Resources []struct{ Type, ID string }

// Lookup returns the resource id of a --resource-type value.
func (r Resources) Lookup(resourceType string) (string, bool) {
	for _, e := range r {
		if e.Type == resourceType {
			return e.ID, true
		}
	}
	return "", false
}

// ARMResource is the resource az asks for when no --resource, --resource-type or
// --scope is given: the cloud's active_directory_resource_id, which az also maps
// --resource-type arm to. ARM accepts tokens for it and for resource_manager alike.
func (c Cloud) ARMResource() string { id, _ := c.Resources.Lookup("arm"); return id }

var (
	// CloudPublic is AzureCloud.
	CloudPublic = Cloud{Name: "AzureCloud", Resources: Resources{
		{"arm", "https://management.core.windows.net/"},
		{"aad-graph", "https://graph.windows.net/"},
		{"ms-graph", "https://graph.microsoft.com/"},
		{"batch", "https://batch.core.windows.net/"},
		{"data-lake", "https://datalake.azure.net/"},
		{"media", "https://rest.media.azure.net"},
		{"oss-rdbms", "https://ossrdbms-aad.database.windows.net"},
	}}
	// CloudUSGov is AzureUSGovernment.
	CloudUSGov = Cloud{Name: "AzureUSGovernment", Resources: Resources{
		{"arm", "https://management.core.usgovcloudapi.net/"},
		{"aad-graph", "https://graph.windows.net/"},
		{"ms-graph", "https://graph.microsoft.us/"},
		{"batch", "https://batch.core.usgovcloudapi.net/"},
		{"media", "https://rest.media.usgovcloudapi.net"},
		{"oss-rdbms", "https://ossrdbms-aad.database.usgovcloudapi.net"},
	}}
	// CloudChina is AzureChinaCloud.
	CloudChina = Cloud{Name: "AzureChinaCloud", Resources: Resources{
		{"arm", "https://management.core.chinacloudapi.cn/"},
		{"aad-graph", "https://graph.chinacloudapi.cn/"},
		{"ms-graph", "https://microsoftgraph.chinacloudapi.cn"},
		{"batch", "https://batch.chinacloudapi.cn/"},
		{"media", "https://rest.media.chinacloudapi.cn"},
		{"oss-rdbms", "https://ossrdbms-aad.database.chinacloudapi.cn"},
	}}
)

// CloudFor picks the cloud of an authority host. Anything that is not a national
// cloud's login host (including a private test authority) is the public cloud.
func CloudFor(authority string) Cloud {
	host := authority
	if u, err := weburl.Parse(authority); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	switch strings.ToLower(host) {
	case "login.microsoftonline.us":
		return CloudUSGov
	case "login.chinacloudapi.cn":
		return CloudChina
	}
	return CloudPublic
}

// ScopeFor turns a v1 resource into the scope az asks MSAL for: the resource with
// "/.default" appended verbatim (azure-cli's resource_to_scopes), so
// "https://management.core.windows.net/" becomes "https://management.core.windows.net//.default"
// — the double slash is what az sends and Entra issues the token for the resource
// with the trailing slash. The Azure SDKs strip "/.default" from their scope to make
// the --resource they pass, so this round-trips their scope exactly.
func ScopeFor(resource string) string { return resource + "/.default" }

// Scope is the single scope a get-access-token command asks for: --scope, else
// --resource, else --resource-type, else ARM.
func (c Command) Scope(cloud Cloud) (string, error) {
	if s, err := oneScope(c.Scopes); s != "" || err != nil {
		return s, err
	}
	if c.Resource != "" {
		return ScopeFor(c.Resource), nil
	}
	if c.ResourceType != "" {
		r, ok := cloud.Resources.Lookup(c.ResourceType)
		if !ok {
			return "", fmt.Errorf("the %s cloud has no endpoint for --resource-type %s", cloud.Name, c.ResourceType)
		}
		return ScopeFor(r), nil
	}
	return ScopeFor(cloud.ARMResource()), nil
}

// oneScope reduces the --scope values to one: the client-credentials grant gets a token
// for one resource at a time, so distinct scopes are refused before any request.
func oneScope(scopes []string) (string, error) {
	var s string
	for _, v := range scopes {
		for _, f := range strings.Fields(v) {
			switch {
			case s == "":
				s = f
			case f != s:
				return "", usagef("a service principal gets a token for one resource at a time: give one --scope (got %s and %s)", s, f)
			}
		}
	}
	return s, nil
}
