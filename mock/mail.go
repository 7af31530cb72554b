package mock

// mailState is the in-memory mail part of a Tenant.
type mailState struct{}

func (t *Tenant) initMailLocked() {}
