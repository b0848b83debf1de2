// Package azcli speaks the Azure CLI's token commands, as the Azure SDKs, Terraform and
// scripts call them.
package azcli

import "time"

// AccessToken is `az account get-access-token -o json` output, fields in the Azure CLI's order.
type AccessToken struct {
	AccessToken  string `json:"accessToken"`
	ExpiresOn    string `json:"expiresOn"`  // local time, "2006-01-02 15:04:05.000000"
	ExpiresOnUTC int64  `json:"expires_on"` // epoch seconds, a JSON number (the SDKs parse it as one)
	Subscription string `json:"subscription"`
	Tenant       string `json:"tenant"`
	TokenType    string `json:"tokenType"`
}

// ExpiresOnLayout is the Azure CLI's local-time format; .NET wants exactly six fraction digits.
const ExpiresOnLayout = "2006-01-02 15:04:05.000000"

// NewAccessToken builds the az shape; loc is the local time zone (time.Local in the binary).
func NewAccessToken(token string, expires time.Time, tenant, subscription string, loc *time.Location) AccessToken {
	return AccessToken{
		AccessToken:  token,
		ExpiresOn:    expires.In(loc).Format(ExpiresOnLayout),
		ExpiresOnUTC: expires.Unix(),
		Subscription: subscription,
		Tenant:       tenant,
		TokenType:    "Bearer",
	}
}
