package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eradicate-dev/eradicate/remediation"
)

// ActionRequest is the body of POST /eradicate/v1/actions: a
// [remediation.Request] without its actor (the caller is the actor) and
// source (always [remediation.SourceAPI]).
type ActionRequest struct {
	// Action is what to do with each selected copy, e.g. "soft_delete".
	Action remediation.Action `json:"action"`
	// Name is a short title for the action center.
	Name string `json:"name,omitempty"`
	// Description is free text kept with the record.
	Description string `json:"description,omitempty"`
	// Severity is "informational", "low", "medium" or "high"; optional.
	Severity remediation.Severity `json:"severity,omitempty"`
	// Selection is what the action targets.
	Selection remediation.Selection `json:"selection"`
	// Recipients restricts a release to these original recipients.
	Recipients []string `json:"recipients,omitempty"`
	// Confirm acknowledges a selection above the blast-radius limit.
	Confirm bool `json:"confirm,omitempty"`
	// MaxCopies is a blast-radius limit for this request alone.
	MaxCopies int `json:"max_copies,omitempty"`
	// RemoveInvites also removes the calendar entries the copies'
	// invites created (soft delete, move to deleted items or junk).
	RemoveInvites bool `json:"remove_invites,omitempty"`
	// Propose records the request as pending approval instead of running
	// it. A caller without the admin role must propose a hard delete.
	Propose bool `json:"propose,omitempty"`
}

// DryRunRequest is the body of POST /eradicate/v1/dryrun.
type DryRunRequest struct {
	// Selection is what an action would target.
	Selection remediation.Selection `json:"selection"`
}

// DryRunResult is the answer of a dry run: what the selection selects, per
// mailbox and folder.
type DryRunResult struct {
	Total     int64                       `json:"total"`     // copies selected
	Mailboxes int                         `json:"mailboxes"` // mailboxes holding a selected copy
	Folders   map[string]map[string]int64 `json:"folders"`   // copies by mailbox, then folder
}

// DeclineRequest is the body of POST /eradicate/v1/actions/{id}/decline.
type DeclineRequest struct {
	// Reason says why; it is kept with the record.
	Reason string `json:"reason,omitempty"`
}

// ActionList is the answer of GET /eradicate/v1/actions.
type ActionList struct {
	Value []*remediation.Record `json:"value"` // the actions, oldest first
}

// Me is the answer of GET /eradicate/v1/me: who the caller is.
type Me struct {
	Name  string `json:"name"`  // the identity, as recorded in the action center
	Roles []Role `json:"roles"` // its roles
}

// validID reports whether id is an action id as the API document's
// pattern says, ^[0-9A-Za-z][0-9A-Za-z-]{0,63}$ (checked on every GET, so
// without a regexp).
func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// actionID is the call's {id}, refused unless it has the shape of an
// action id or of a prefix of one.
func (c *call) actionID() (string, error) {
	id := c.r.PathValue("id")
	if !validID(id) {
		return "", badRequest(fmt.Sprintf("invalid action id %q: letters, digits and '-' only, at most 64", id))
	}
	return id, nil
}

func (c *call) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.r.Context(), c.h.opts.RequestTimeout)
}

func (h *Handler) me(c *call) error {
	return c.json(http.StatusOK, Me{Name: c.id.Name, Roles: c.id.Roles})
}

func (h *Handler) dryRun(c *call) error {
	var req DryRunRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	p, err := h.engine.DryRun(ctx, req.Selection)
	if err != nil {
		return err
	}
	if p.Folders == nil {
		p.Folders = map[string]map[string]int64{}
	}
	return c.json(http.StatusOK, DryRunResult{Total: p.Total, Mailboxes: p.Mailboxes, Folders: p.Folders})
}

func (h *Handler) request(c *call) error {
	var ar ActionRequest
	if err := c.decode(&ar); err != nil {
		return err
	}
	return h.submit(c, ar)
}

// submit runs or proposes ar in the caller's name.
func (h *Handler) submit(c *call, ar ActionRequest) error {
	if !ar.Action.Valid() {
		return badRequest(fmt.Sprintf("unknown action %q", ar.Action))
	}
	req := remediation.Request{
		Action: ar.Action, Name: ar.Name, Description: ar.Description, Severity: ar.Severity,
		Source: remediation.SourceAPI, Actor: c.id.Name, Selection: ar.Selection,
		Recipients: ar.Recipients, Confirm: ar.Confirm, MaxCopies: ar.MaxCopies, RemoveInvites: ar.RemoveInvites,
	}
	if ar.Propose {
		return h.propose(c, req)
	}
	if !ar.Action.Reversible() && !c.id.Has(RoleAdmin) {
		return errorf(http.StatusForbidden, "Forbidden",
			fmt.Sprintf("%s lacks the role admin: a %s cannot be undone and runs directly for an admin only; propose it (\"propose\": true) for an approver", c.id.Name, ar.Action))
	}
	id, err := h.startExecute(c, req)
	if err != nil {
		return err
	}
	return c.accepted(id)
}

// propose records req as pending approval and answers 201 with the record.
func (h *Handler) propose(c *call, req remediation.Request) error {
	ctx, cancel := c.ctx()
	defer cancel()
	rec, err := h.engine.Propose(ctx, req)
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", c.location(rec.ID))
	return c.json(http.StatusCreated, rec)
}

// startExecute starts req ([remediation.Engine.Start]) and returns the id
// of its record, journaled: the action goes on in the background, under
// the engine, and its errors are in its record.
func (h *Handler) startExecute(c *call, req remediation.Request) (string, error) {
	h.bgMu.Lock()
	closed := h.closed
	h.bgMu.Unlock()
	if closed {
		return "", errShuttingDown
	}
	ctx, cancel := c.ctx()
	defer cancel()
	rec, err := h.engine.Start(ctx, req)
	if err != nil {
		return "", err
	}
	return rec.ID, nil
}

var errShuttingDown = errorf(http.StatusServiceUnavailable, "ServiceUnavailable", "the server is shutting down")

// background runs fn under the handler's background context and waits
// until find names the record fn works on, or fn returns. The action goes
// on after the call returns; its errors are logged (and kept in its
// record).
func (h *Handler) background(ctx context.Context, fn func(context.Context) (*remediation.Record, error), find func(context.Context) (string, error)) (string, error) {
	h.bgMu.Lock()
	if h.closed {
		h.bgMu.Unlock()
		return "", errShuttingDown
	}
	h.running.Add(1)
	h.bgMu.Unlock()
	type result struct {
		rec *remediation.Record
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer h.running.Done()
		rec, err := fn(h.bg)
		if err != nil && rec != nil {
			h.log.Warn("action ended with errors", "id", rec.ID, "status", rec.Status, "error", err)
		}
		done <- result{rec, err}
	}()
	wait := 100 * time.Microsecond
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case res := <-done:
			if res.rec != nil {
				return res.rec.ID, nil
			}
			return "", res.err
		case <-timer.C:
			id, err := find(ctx)
			if err != nil {
				return "", err
			}
			if id != "" {
				return id, nil
			}
			wait = min(wait*2, 5*time.Millisecond)
			timer.Reset(wait)
		case <-ctx.Done():
			return "", errorf(http.StatusServiceUnavailable, "Timeout",
				"the action was not recorded within the request timeout; it may still start: list the actions to see")
		}
	}
}

func (h *Handler) get(c *call) error {
	id, err := c.actionID()
	if err != nil {
		return err
	}
	if d, ok := preferWait(c.r.Header); ok {
		// RFC 7240's wait preference: answer when the action stops
		// running, or after d, instead of being polled meanwhile.
		wctx, cancel := context.WithTimeout(c.r.Context(), d)
		stop := context.AfterFunc(h.bg, cancel) // Shutdown ends the wait
		_, err := h.engine.Wait(wctx, id)
		stop()
		cancel()
		if err != nil && wctx.Err() == nil {
			return err
		}
		c.w.Header().Set("Preference-Applied", "wait="+strconv.Itoa(int(d/time.Second)))
	}
	ctx, cancel := c.ctx()
	defer cancel()
	rec, err := h.engine.Get(ctx, id)
	if err != nil {
		return err
	}
	if !rec.Status.Final() || rec.Incomplete {
		return c.json(http.StatusOK, rec)
	}
	body, err := h.finished.encode(rec)
	if err != nil {
		return err
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(http.StatusOK)
	_, err = c.w.Write(body)
	return err
}

// MaxPreferWait bounds the wait a GET of an action may ask for with
// "Prefer: wait=N" (RFC 7240).
const MaxPreferWait = 60 * time.Second

// preferWait returns the wait=N preference of a Prefer header (seconds,
// at most MaxPreferWait), and whether there is one.
func preferWait(h http.Header) (time.Duration, bool) {
	for _, v := range h.Values("Prefer") {
		for pref := range strings.SplitSeq(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(pref), "=")
			if !strings.EqualFold(strings.TrimSpace(name), "wait") {
				continue
			}
			val, _, _ = strings.Cut(val, ";")
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`))
			if err != nil || n < 0 {
				return 0, false
			}
			if n > int(MaxPreferWait/time.Second) { // before multiplying: no overflow
				return MaxPreferWait, true
			}
			return time.Duration(n) * time.Second, true
		}
	}
	return 0, false
}

// encodings keeps the JSON of finished records, for the many clients that
// poll one action: a record read again that is equal to the one encoded
// (a finished record rarely changes: an undo names itself in it) is not
// encoded again.
type encodings struct {
	m sync.Map // id -> *encoding
	n atomic.Int64
}

type encoding struct {
	rec  *remediation.Record
	body []byte
}

// maxEncodings bounds the records whose JSON is kept.
const maxEncodings = 1024

// encode returns the JSON of rec, as json.Encoder writes it.
func (es *encodings) encode(rec *remediation.Record) ([]byte, error) {
	if v, ok := es.m.Load(rec.ID); ok {
		if en := v.(*encoding); reflect.DeepEqual(en.rec, rec) {
			return en.body, nil
		}
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(rec); err != nil {
		return nil, err
	}
	if es.n.Add(1) > maxEncodings {
		es.m.Clear()
		es.n.Store(1)
	}
	es.m.Store(rec.ID, &encoding{rec: rec, body: buf.Bytes()})
	return buf.Bytes(), nil
}

// outcomes streams the outcomes of an action as NDJSON: one
// [remediation.Outcome] per line. An error after the first line ends the
// stream with a line {"error": …} in Graph's error shape.
func (h *Handler) outcomes(c *call) error {
	id, err := c.actionID()
	if err != nil {
		return err
	}
	rec, err := h.engine.Get(c.r.Context(), id)
	if err != nil {
		return err
	}
	c.w.Header().Set("Content-Type", "application/x-ndjson")
	c.w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(c.w)
	rc := http.NewResponseController(c.w)
	n := 0
	for o, err := range h.engine.Outcomes(c.r.Context(), rec.ID) {
		if err != nil {
			status, code, msg := classify(err)
			if status >= 500 {
				h.log.Error("outcomes stream", "request_id", c.reqID, "error", err)
			}
			return enc.Encode(ErrorBody{Error: ErrorDetail{Code: code, Message: msg,
				InnerError: InnerError{Date: time.Now().UTC().Format(time.RFC3339), RequestID: c.reqID}}})
		}
		if err := enc.Encode(o); err != nil {
			return nil // the client went away
		}
		if n++; n%1000 == 0 {
			_ = rc.Flush()
		}
	}
	return nil
}

func (h *Handler) approve(c *call) error {
	id, err := c.actionID()
	if err != nil {
		return err
	}
	if err := c.emptyBody(); err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	rec, err := h.engine.Get(ctx, id)
	if err != nil {
		return err
	}
	if rec.Status != remediation.StatusPending {
		return fmt.Errorf("%w (it is %s)", remediation.ErrNotPending, rec.Status)
	}
	if sameActor(rec.Actor, c.id.Name) {
		return errorf(http.StatusForbidden, "FourEyes",
			fmt.Sprintf("four eyes: %s proposed %s and cannot approve it; another approver must", rec.Actor, rec.ID))
	}
	approver := c.id.Name
	got, err := h.background(ctx, func(ctx context.Context) (*remediation.Record, error) {
		return h.engine.Approve(ctx, rec.ID, approver)
	}, func(ctx context.Context) (string, error) {
		r, err := h.engine.Get(ctx, rec.ID)
		if err != nil {
			return "", err
		}
		if sameActor(r.DecidedBy, approver) && r.Status != remediation.StatusDeclined {
			return r.ID, nil
		}
		return "", nil
	})
	if err != nil {
		return err
	}
	return c.accepted(got)
}

func sameActor(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

func (h *Handler) decline(c *call) error {
	id, err := c.actionID()
	if err != nil {
		return err
	}
	var req DeclineRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	rec, err := h.engine.Decline(ctx, id, c.id.Name, req.Reason)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, rec)
}

func (h *Handler) undo(c *call) error {
	id, err := c.actionID()
	if err != nil {
		return err
	}
	if err := c.emptyBody(); err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	orig, err := h.engine.Get(ctx, id)
	if err != nil {
		return err
	}
	if orig.UndoneBy != "" {
		// Refused here: the search for the undo below would find the
		// earlier one before the engine refuses this one.
		return fmt.Errorf("%w: %s undid %s", remediation.ErrAlreadyUndone, orig.UndoneBy, orig.ID)
	}
	actor := c.id.Name
	got, err := h.background(ctx, func(ctx context.Context) (*remediation.Record, error) {
		return h.engine.Undo(ctx, orig.ID, actor)
	}, func(ctx context.Context) (string, error) {
		r, err := h.engine.Get(ctx, orig.ID)
		if err != nil || r.UndoneBy == "" {
			return "", err
		}
		// The original names its undo a moment before the undo's own
		// record can be read.
		if _, err := h.engine.Get(ctx, r.UndoneBy); err != nil {
			if errors.Is(err, remediation.ErrNotFound) {
				return "", nil
			}
			return "", err
		}
		return r.UndoneBy, nil
	})
	if err != nil {
		return err
	}
	return c.accepted(got)
}

// queryParams are the parameters GET /eradicate/v1/actions takes.
var queryParams = map[string]bool{"status": true, "actor": true, "action": true, "source": true, "since": true, "before": true, "top": true}

func (h *Handler) query(c *call) error {
	q := c.r.URL.Query()
	for k := range q {
		if !queryParams[k] {
			return badRequest(fmt.Sprintf("unknown parameter %q (status, actor, action, source, since, before, top)", k))
		}
	}
	var f remediation.Filter
	for _, s := range list(q, "status") {
		f.Statuses = append(f.Statuses, remediation.Status(s))
	}
	f.Actors = list(q, "actor")
	for _, s := range list(q, "action") {
		f.Actions = append(f.Actions, remediation.Action(s))
	}
	for _, s := range list(q, "source") {
		f.Sources = append(f.Sources, remediation.Source(s))
	}
	var err error
	if f.Since, err = timeParam(q, "since"); err != nil {
		return err
	}
	if f.Before, err = timeParam(q, "before"); err != nil {
		return err
	}
	top := 100
	if s := q.Get("top"); s != "" {
		if top, err = strconv.Atoi(s); err != nil || top < 1 || top > 1000 {
			return badRequest("top must be a number from 1 to 1000")
		}
	}
	ctx, cancel := c.ctx()
	defer cancel()
	// The latest top records, oldest first.
	var out []*remediation.Record
	for rec, err := range h.engine.Query(ctx, f) {
		if err != nil {
			return err
		}
		if len(out) == top {
			copy(out, out[1:])
			out = out[:top-1]
		}
		out = append(out, rec)
	}
	if out == nil {
		out = []*remediation.Record{}
	}
	return c.json(http.StatusOK, ActionList{Value: out})
}

// list reads a parameter given repeated or comma-separated.
func list(q url.Values, key string) []string {
	var out []string
	for _, v := range q[key] {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func timeParam(q url.Values, key string) (time.Time, error) {
	s := q.Get(key)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, badRequest(fmt.Sprintf("%s must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z", key))
	}
	return t, nil
}
