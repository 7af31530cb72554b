package conformance

import (
	"reflect"
	"testing"
)

// Case is one case of a suite: its name, unique in its group, and its
// body, which gets the case's environment E.
type Case[E any] struct {
	// Name is the case's name in its group.
	Name string
	// Run runs the case, with its environment.
	Run func(t *testing.T, e E)
}

// Group is a named list of cases.
type Group[E any] struct {
	// Name is the group's name, the first part of its cases' names.
	Name string
	// Cases are the group's cases, run in order.
	Cases []Case[E]
}

// Run runs every case of groups as the subtest "Group/Case" of t. For
// each case it calls newHarness with the case's *testing.T and fails the
// case when that returns nil; then newEnv, which checks the harness
// (failing t when it cannot serve the suite) and returns the case's
// environment, and may register cleanups on t that run even when the case
// is skipped. It skips the case with the harness's reason when skips(h),
// keyed "Group/Case", names it, and runs it otherwise.
func Run[H, E any](t *testing.T, groups []Group[E], newHarness func(t *testing.T) *H, newEnv func(t *testing.T, h *H) E, skips func(h *H) map[string]string) {
	for _, g := range groups {
		t.Run(g.Name, func(t *testing.T) {
			for _, c := range g.Cases {
				t.Run(c.Name, func(t *testing.T) {
					h := newHarness(t)
					if h == nil {
						t.Fatal("the factory returned a nil harness")
					}
					e := newEnv(t, h)
					if reason, ok := skips(h)[g.Name+"/"+c.Name]; ok {
						t.Skip("skipped by the harness: " + reason)
					}
					c.Run(t, e)
				})
			}
		})
	}
}

// Implements returns v as an I, the optional interface a group of cases
// is about, or skips t saying that v does not implement it.
func Implements[I any](t *testing.T, v any) I {
	t.Helper()
	i, ok := v.(I)
	if !ok {
		t.Skipf("%T does not implement %s: the cases of this optional interface do not apply", v, reflect.TypeFor[I]())
	}
	return i
}
