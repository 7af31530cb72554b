package api_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

func TestRulesWithoutSet(t *testing.T) {
	e := newEnv(t, nil)
	assert.Equal(t, "NotImplemented", graphError(t, e.do("reader", "GET", "/eradicate/v1/rules", nil), 501).Code)
}

// TestRules: admins manage the rules; every change is saved, and a change
// that cannot be saved is reverted.
func TestRules(t *testing.T) {
	var mu sync.Mutex
	var saved []rules.Rule
	var failSave bool
	var rs *rules.Set
	e := newEnvWith(t, func(eng *remediation.Engine) *api.Options {
		rs = rules.New(eng, nil)
		return &api.Options{Rules: rs, SaveRules: func(list []rules.Rule) error {
			mu.Lock()
			defer mu.Unlock()
			if failSave {
				return errors.New("disk full")
			}
			saved = list
			return nil
		}}
	})

	rule := rules.Rule{Name: "evil domain", Action: remediation.SoftDelete, Mode: rules.ModeExecute,
		Criteria: mailbox.Criteria{SenderDomains: []string{"evil.example"}}}
	assert.Equal(t, "Forbidden", graphError(t, e.do("analyst", "POST", "/eradicate/v1/rules", rule), 403).Code)
	var got rules.Rule
	resp := e.do("admin", "POST", "/eradicate/v1/rules", rule)
	decodeResp(t, resp, http.StatusCreated, &got)
	assert.Equal(t, "/eradicate/v1/rules/evil domain", resp.Header.Get("Location"))
	assert.Equal(t, rule.Name, got.Name)
	assert.Equal(t, "Conflict", graphError(t, e.do("admin", "POST", "/eradicate/v1/rules", rule), 409).Code)
	bad := rule
	bad.Name, bad.Criteria = "everything", mailbox.Criteria{Folders: []string{"INBOX"}}
	graphError(t, e.do("admin", "POST", "/eradicate/v1/rules", bad), 400)
	graphError(t, e.do("admin", "POST", "/eradicate/v1/rules", `{"name":"x","action":"soft_delete","mode":"execute","criteria":{"senders":["a@b"]},"colour":1}`), 400)
	mu.Lock()
	require.Len(t, saved, 1)
	mu.Unlock()

	var list api.RuleList
	decodeResp(t, e.do("reader", "GET", "/eradicate/v1/rules", nil), 200, &list)
	require.Len(t, list.Value, 1)
	decodeResp(t, e.do("reader", "GET", "/eradicate/v1/rules/evil%20domain", nil), 200, &got)
	assert.False(t, got.Disabled)
	graphError(t, e.do("reader", "GET", "/eradicate/v1/rules/nope", nil), 404)
	graphError(t, e.do("reader", "GET", "/eradicate/v1/rules/..%2Fx", nil), 404)

	decodeResp(t, e.do("admin", "POST", "/eradicate/v1/rules/evil%20domain/disable", nil), 200, &got)
	assert.True(t, got.Disabled)
	mu.Lock()
	assert.True(t, saved[0].Disabled, "the change is saved")
	failSave = true
	mu.Unlock()

	// A change that cannot be saved is reverted.
	assert.Equal(t, "InternalServerError", graphError(t, e.do("admin", "POST", "/eradicate/v1/rules/evil%20domain/enable", nil), 500).Code)
	r, err := rs.Rule("evil domain")
	require.NoError(t, err)
	assert.True(t, r.Disabled, "reverted")
	graphError(t, e.do("admin", "DELETE", "/eradicate/v1/rules/evil%20domain", nil), 500)
	_, err = rs.Rule("evil domain")
	require.NoError(t, err, "reverted")

	mu.Lock()
	failSave = false
	mu.Unlock()
	resp = e.do("admin", "DELETE", "/eradicate/v1/rules/evil%20domain", nil)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Empty(t, rs.Rules())
	mu.Lock()
	assert.Empty(t, saved)
	mu.Unlock()
}
