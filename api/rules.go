package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// RuleList is the answer of GET /eradicate/v1/rules.
type RuleList struct {
	Value []rules.Rule `json:"value"` // the rules, in the order they are checked
}

var validRuleName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,127}$`)

func (c *call) ruleName() (string, error) {
	name := c.r.PathValue("name")
	if !validRuleName.MatchString(name) {
		return "", badRequest(fmt.Sprintf("invalid rule name %q: letters, digits, space and . _ @ - only, at most 128", name))
	}
	return name, nil
}

// rulesSet returns the handler's detection rules, or 501 without them.
func (h *Handler) rulesSet() (*rules.Set, error) {
	if h.opts.Rules == nil {
		return nil, errorf(http.StatusNotImplemented, "NotImplemented", "this server has no detection rules")
	}
	return h.opts.Rules, nil
}

// namedRule returns the rules and the name of the call's rule.
func (h *Handler) namedRule(c *call) (*rules.Set, string, error) {
	rs, err := h.rulesSet()
	if err != nil {
		return nil, "", err
	}
	name, err := c.ruleName()
	return rs, name, err
}

// saveRules persists the rules after a change; when that fails, undo
// reverts the change, so that what runs is what is saved.
func (h *Handler) saveRules(rs *rules.Set, undo func() error) error {
	if h.opts.SaveRules == nil {
		return nil
	}
	err := h.opts.SaveRules(rs.Rules())
	if err == nil {
		return nil
	}
	if uerr := undo(); uerr != nil {
		err = errors.Join(err, fmt.Errorf("reverting the change: %w", uerr))
	}
	return fmt.Errorf("saving the detection rules (the change was reverted): %w", err)
}

func (h *Handler) listRules(c *call) error {
	rs, err := h.rulesSet()
	if err != nil {
		return err
	}
	list := rs.Rules()
	if list == nil {
		list = []rules.Rule{}
	}
	return c.json(http.StatusOK, RuleList{Value: list})
}

func (h *Handler) getRule(c *call) error {
	rs, name, err := h.namedRule(c)
	if err != nil {
		return err
	}
	r, err := rs.Rule(name)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, r)
}

func (h *Handler) addRule(c *call) error {
	rs, err := h.rulesSet()
	if err != nil {
		return err
	}
	var r rules.Rule
	if err := c.decode(&r); err != nil {
		return err
	}
	if !validRuleName.MatchString(r.Name) {
		return badRequest(fmt.Sprintf("invalid rule name %q: letters, digits, space and . _ @ - only, at most 128", r.Name))
	}
	h.rulesMu.Lock()
	defer h.rulesMu.Unlock()
	if err := rs.Add(r); err != nil {
		return err
	}
	if err := h.saveRules(rs, func() error { return rs.Remove(r.Name) }); err != nil {
		return err
	}
	got, err := rs.Rule(r.Name)
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", h.opts.Prefix+ownPrefix+"/rules/"+r.Name)
	return c.json(http.StatusCreated, got)
}

// enableRule answers POST .../rules/{name}/enable and .../disable.
func (h *Handler) enableRule(enabled bool) func(*call) error {
	return func(c *call) error {
		rs, name, err := h.namedRule(c)
		if err != nil {
			return err
		}
		if err := c.emptyBody(); err != nil {
			return err
		}
		h.rulesMu.Lock()
		defer h.rulesMu.Unlock()
		before, err := rs.Rule(name)
		if err != nil {
			return err
		}
		if err := rs.Enable(name, enabled); err != nil {
			return err
		}
		if err := h.saveRules(rs, func() error { return rs.Enable(name, !before.Disabled) }); err != nil {
			return err
		}
		r, err := rs.Rule(name)
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, r)
	}
}

func (h *Handler) deleteRule(c *call) error {
	rs, name, err := h.namedRule(c)
	if err != nil {
		return err
	}
	h.rulesMu.Lock()
	defer h.rulesMu.Unlock()
	before, err := rs.Rule(name)
	if err != nil {
		return err
	}
	if err := rs.Remove(name); err != nil {
		return err
	}
	// A rule put back goes after the others: the order of checking
	// changes only when saving failed.
	if err := h.saveRules(rs, func() error { return rs.Add(before) }); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
