package testkit

// The app every test registers: one tenant and one client id, so that a token, a
// profile and an emulator app made in different packages agree.
const (
	TenantID = "87654321-4321-4321-4321-cba987654321"
	ClientID = "12345678-1234-1234-1234-123456789abc"
)
