package rules_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// memStore is a rules.Store in memory; fail, when set, fails every save.
type memStore struct {
	mu    sync.Mutex
	saved []rules.Rule
	saves int
	fail  error
}

func (s *memStore) LoadRules(ctx context.Context) ([]rules.Rule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.saved), nil
}

func (s *memStore) SaveRules(ctx context.Context, list []rules.Rule) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.saved = slices.Clone(list)
	s.saves++
	return nil
}

func names(list []rules.Rule) []string {
	var out []string
	for _, r := range list {
		out = append(out, r.Name)
	}
	return out
}

func TestStoreSavesEveryChange(t *testing.T) {
	v := newRTEnv(t, nil)
	st := &memStore{}
	rs, err := rules.Open(t.Context(), v.Engine, &rules.Options{Store: st})
	require.NoError(t, err)
	defer rs.Close(context.Background())
	assert.Empty(t, rs.Rules())

	require.NoError(t, rs.Add(evilRule("a", rules.ModeExecute, remediation.SoftDelete)))
	require.NoError(t, rs.Add(evilRule("b", rules.ModePropose, remediation.MoveToJunk)))
	assert.Equal(t, []string{"a", "b"}, names(st.saved))
	require.NoError(t, rs.Enable("a", false))
	assert.True(t, st.saved[0].Disabled)
	require.NoError(t, rs.Remove("b"))
	assert.Equal(t, []string{"a"}, names(st.saved))
	assert.Equal(t, 4, st.saves)

	// Refused changes save nothing.
	assert.ErrorIs(t, rs.Add(evilRule("a", rules.ModeExecute, remediation.SoftDelete)), rules.ErrExists)
	assert.ErrorIs(t, rs.Remove("zz"), rules.ErrNotFound)
	assert.Equal(t, 4, st.saves)

	// A change the store cannot save is not made.
	st.fail = errors.New("disk full")
	err = rs.Add(evilRule("c", rules.ModeExecute, remediation.SoftDelete))
	assert.ErrorIs(t, err, rules.ErrNotSaved)
	assert.ErrorContains(t, err, "disk full")
	assert.ErrorIs(t, rs.Remove("a"), rules.ErrNotSaved)
	assert.ErrorIs(t, rs.Enable("a", true), rules.ErrNotSaved)
	assert.Equal(t, []string{"a"}, names(rs.Rules()))
	assert.True(t, rs.Rules()[0].Disabled)
	st.fail = nil

	// A new set opened from the store has the rules.
	again, err := rules.Open(t.Context(), v.Engine, &rules.Options{Store: st})
	require.NoError(t, err)
	defer again.Close(context.Background())
	assert.Equal(t, rs.Rules(), again.Rules())
}

func TestOpenRefusesBadSavedRules(t *testing.T) {
	v := newRTEnv(t, nil)
	_, err := rules.Open(t.Context(), v.Engine, nil)
	assert.Error(t, err)
	bad := evilRule("bad", rules.ModeExecute, remediation.SoftDelete)
	bad.Criteria = mailbox.Criteria{}
	_, err = rules.Open(t.Context(), v.Engine, &rules.Options{Store: &memStore{saved: []rules.Rule{bad}}})
	assert.ErrorIs(t, err, rules.ErrInvalid)
	dup := evilRule("dup", rules.ModeExecute, remediation.SoftDelete)
	_, err = rules.Open(t.Context(), v.Engine, &rules.Options{Store: &memStore{saved: []rules.Rule{dup, dup}}})
	assert.ErrorIs(t, err, rules.ErrExists)
}

// TestConcurrentChangesSaved: changes from several goroutines are each
// saved, and the store ends with the rules in effect.
func TestConcurrentChangesSaved(t *testing.T) {
	v := newRTEnv(t, nil)
	st := &memStore{}
	rs, err := rules.Open(t.Context(), v.Engine, &rules.Options{Store: st})
	require.NoError(t, err)
	defer rs.Close(context.Background())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, rs.Add(evilRule(string(rune('a'+i)), rules.ModeExecute, remediation.SoftDelete)))
		}()
	}
	wg.Wait()
	assert.Len(t, rs.Rules(), 8)
	assert.Equal(t, rs.Rules(), st.saved)
	assert.Equal(t, 8, st.saves)
}
