package mock

// faultState holds the injected faults of a Tenant.
type faultState struct{}
