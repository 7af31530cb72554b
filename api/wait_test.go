package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// gatedStore is the mock tenant whose moves wait until gate is closed.
type gatedStore struct {
	*mock.Tenant
	gate chan struct{}
}

func (g *gatedStore) Move(ctx context.Context, addrs []mailbox.Address, to mailbox.Location) ([]mailbox.Moved, error) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Tenant.Move(ctx, addrs, to)
}

// TestPreferWait: a GET of a running action with "Prefer: wait=N" answers
// when the action ends (not before), with Preference-Applied; a wait that
// runs out answers the running record; a bad preference is ignored.
func TestPreferWait(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("m1@evil.example", "a", users[0])
	gs := &gatedStore{Tenant: e.tenant, gate: make(chan struct{})}
	engine, err := remediation.New(gs, e.tenant, journal.NewMemory(), nil)
	require.NoError(t, err)
	auth, err := api.NewTokens([]api.Token{{Name: "analyst", SHA256: api.HashToken(e.tokens["analyst"]), Roles: []api.Role{api.RoleAnalyst}}})
	require.NoError(t, err)
	h, err := api.New(engine, api.Options{Auth: auth})
	require.NoError(t, err)
	e.srv.Config.Handler = h // the env's server now serves this engine
	t.Cleanup(func() {
		_ = h.Shutdown(context.Background())
		_ = engine.Close(context.Background())
	})

	resp := e.do("analyst", "POST", "/security/collaboration/analyzedEmails/remediate", graphBody("softDelete", "m1@evil.example", users[0]))
	decodeResp(t, resp, http.StatusAccepted, nil)
	loc := resp.Header.Get("Location")

	get := func(prefer string) (*http.Response, remediation.Record) {
		req, err := http.NewRequest("GET", loc, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+e.tokens["analyst"])
		if prefer != "" {
			req.Header.Set("Prefer", prefer)
		}
		resp, err := e.srv.Client().Do(req)
		require.NoError(t, err)
		var rec remediation.Record
		decodeResp(t, resp, http.StatusOK, &rec)
		return resp, rec
	}
	resp, rec := get("wait=1")
	assert.Equal(t, "wait=1", resp.Header.Get("Preference-Applied"))
	assert.Equal(t, remediation.StatusRunning, rec.Status, "the wait ran out while the move was held")
	resp, rec = get("wait=abc")
	assert.Empty(t, resp.Header.Get("Preference-Applied"))
	assert.Equal(t, remediation.StatusRunning, rec.Status)

	released := make(chan time.Time, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		released <- time.Now()
		close(gs.gate)
	}()
	resp, rec = get("respond-async, wait=30")
	answered := time.Now()
	assert.Equal(t, "wait=30", resp.Header.Get("Preference-Applied"))
	assert.Equal(t, remediation.StatusCompleted, rec.Status)
	assert.False(t, answered.Before(<-released), "answered only once the action could end")
	assert.EqualValues(t, 1, rec.Counts.Succeeded)
}
