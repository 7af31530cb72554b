package mock

import (
	"context"

	"github.com/eradicate-dev/eradicate/mailbox"
)

var _ mailbox.FolderStater = (*Tenant)(nil)

// FolderStatus returns the state of every folder of owner's mailbox. It
// implements [mailbox.FolderStater]; faults strike it as a Search
// ([OpSearch]).
func (t *Tenant) FolderStatus(ctx context.Context, owner string) ([]mailbox.FolderStatus, error) {
	if err := t.fault(ctx, OpSearch); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(owner)
	if err != nil {
		return nil, err
	}
	out := make([]mailbox.FolderStatus, 0, len(u.order))
	for _, f := range u.order {
		out = append(out, mailbox.FolderStatus{
			Name:        f.name,
			Role:        f.role,
			UIDValidity: f.validity,
			UIDNext:     f.nextUID,
			Messages:    uint32(len(f.msgs)),
		})
	}
	return out, nil
}
