package profile

import (
	"fmt"
	"strings"
)

// Microsoft Graph of each national cloud (SPEC §13).
const (
	GraphPublic = "https://graph.microsoft.com"
	GraphUSGov  = "https://graph.microsoft.us"
	GraphChina  = "https://microsoftgraph.chinacloudapi.cn"
)

// EnvGraphEndpoint names Graph for profiles whose authority is not a national cloud's.
const EnvGraphEndpoint = "ENTRATOOL_GRAPH_ENDPOINT"

// Graph is the Microsoft Graph endpoint the profile's app registration lives behind,
// without a trailing slash: the profile's graphEndpoint, else ENTRATOOL_GRAPH_ENDPOINT,
// else the Graph of the profile's cloud. A custom authority with neither is an error
// saying to set one: Graph cannot be guessed from an authority host.
func (p *Profile) Graph(getenv func(string) string) (string, error) {
	if p.GraphEndpoint != "" {
		return strings.TrimRight(p.GraphEndpoint, "/"), nil
	}
	if getenv != nil {
		if v := getenv(EnvGraphEndpoint); v != "" {
			if err := validEndpoint(EnvGraphEndpoint, v, GraphPublic); err != nil {
				return "", err
			}
			return strings.TrimRight(v, "/"), nil
		}
	}
	switch p.Authority() {
	case AuthorityPublic:
		return GraphPublic, nil
	case AuthorityUSGov:
		return GraphUSGov, nil
	case AuthorityChina:
		return GraphChina, nil
	}
	return "", fmt.Errorf("profile '%s' signs in at %s, which is not a national cloud's authority: set its Graph endpoint with graphEndpoint in profiles.json or %s",
		p.Name, p.Authority(), EnvGraphEndpoint)
}
