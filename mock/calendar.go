package mock

// calState is the in-memory calendar part of a Tenant (filled in by the
// calendar work).
type calState struct{}

func (t *Tenant) initCalLocked() {}
