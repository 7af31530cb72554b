package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

// listFlag is a list flag: comma-separated, or the flag repeated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

type criteriaFlags struct {
	messageIDs, senders, domains, mailboxes listFlag
	subject                                 string
}

func (c *criteriaFlags) register(fs *flag.FlagSet) {
	fs.Var(&c.messageIDs, "message-id", "Message-IDs")
	fs.Var(&c.senders, "sender", "sender addresses")
	fs.Var(&c.domains, "sender-domain", "sender domains")
	fs.StringVar(&c.subject, "subject", "", "a substring of the subject")
	fs.Var(&c.mailboxes, "mailbox", "only these mailboxes")
}

func (c *criteriaFlags) selection() remediation.Selection {
	return remediation.Selection{
		Criteria:  &mailbox.Criteria{MessageIDs: c.messageIDs, Senders: c.senders, SenderDomains: c.domains, Subject: c.subject},
		Mailboxes: c.mailboxes,
	}
}

// clientFlags registers the flags every client command has; connect, after
// parsing, returns the client they describe.
func clientFlags(fs *flag.FlagSet) (connect func() (*apiClient, error), asJSON *bool) {
	base := fs.String("url", envOr("ERADICATE_URL", "http://127.0.0.1:8750"), "the API's base URL ($ERADICATE_URL)")
	tokenFile := fs.String("token-file", "", "a file holding the API token (default $ERADICATE_TOKEN)")
	asJSON = fs.Bool("json", false, "print JSON for scripts")
	caFile := fs.String("ca", os.Getenv("ERADICATE_CA"), "a PEM file of the CAs that signed the API's certificate, beside the system's ($ERADICATE_CA)")
	return func() (*apiClient, error) {
		hc := &http.Client{Timeout: 5 * time.Minute}
		if *caFile != "" {
			pem, err := os.ReadFile(*caFile)
			if err != nil {
				return nil, fmt.Errorf("-ca: %w", err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("-ca: %s holds no PEM certificate", *caFile)
			}
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
			hc.Transport = tr
		}
		token := os.Getenv("ERADICATE_TOKEN")
		if *tokenFile != "" {
			b, err := os.ReadFile(*tokenFile)
			if err != nil {
				return nil, err
			}
			token = strings.TrimSpace(string(b))
		}
		if token == "" {
			return nil, errors.New("no token: set ERADICATE_TOKEN or -token-file")
		}
		return &apiClient{base: strings.TrimRight(*base, "/"), token: token, hc: hc}, nil
	}, asJSON
}

// apiClient calls the API.
type apiClient struct {
	base, token string
	hc          *http.Client
}

// apiError is an error answer of the API.
type apiError struct {
	Status int
	api.ErrorDetail
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// call sends a call and decodes a 2xx JSON answer into out (when not nil).
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	u := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		u = c.base + path
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		var eb api.ErrorBody
		if json.Unmarshal(b, &eb) != nil || eb.Error.Code == "" {
			return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
		}
		return nil, &apiError{Status: resp.StatusCode, ErrorDetail: eb.Error}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
		}
	}
	return resp, nil
}

// wait polls an action until it is final (or pending approval), showing
// its progress on bar (nil: nothing).
func (c *apiClient) wait(ctx context.Context, location string, bar *progressBar) (*remediation.Record, error) {
	delay := 20 * time.Millisecond
	for {
		var rec remediation.Record
		if _, err := c.call(ctx, "GET", location, nil, &rec); err != nil {
			bar.finish(nil)
			return nil, err
		}
		if rec.Status.Final() || rec.Status == remediation.StatusPending {
			bar.finish(&rec)
			return &rec, nil
		}
		bar.update(&rec)
		select {
		case <-ctx.Done():
			bar.finish(nil)
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

func client(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	connect, asJSON := clientFlags(fs)
	var crit criteriaFlags
	var action, name, description, severity, reason string
	var propose, confirm, removeInvites, noWait, outcomes bool
	var recipients, statuses listFlag
	top := 50
	switch cmd {
	case "dryrun":
		crit.register(fs)
	case "remediate":
		crit.register(fs)
		fs.StringVar(&action, "action", "", "soft_delete, move_to_junk, move_to_deleted, move_to_inbox, hard_delete, release, delete_sender_copy")
		fs.StringVar(&name, "name", "", "a title for the action center")
		fs.StringVar(&description, "description", "", "free text")
		fs.StringVar(&severity, "severity", "", "informational, low, medium or high")
		fs.BoolVar(&propose, "propose", false, "propose for approval instead of running")
		fs.BoolVar(&confirm, "confirm", false, "acknowledge a selection above the blast-radius limit")
		fs.BoolVar(&removeInvites, "remove-invites", false, "also remove the calendar entries the messages' invites created")
		fs.Var(&recipients, "recipients", "release to these original recipients only")
		fs.BoolVar(&noWait, "no-wait", false, "return once the action is recorded")
	case "release":
		fs.Var(&crit.messageIDs, "message-id", "the held messages' Message-IDs")
		fs.Var(&recipients, "recipients", "release to these original recipients only")
		fs.StringVar(&name, "name", "", "a title for the action center")
		fs.BoolVar(&propose, "propose", false, "propose for approval instead of releasing")
		fs.BoolVar(&noWait, "no-wait", false, "return once the release is recorded")
	case "clusters":
		fs.StringVar(&name, "of", "", "the cluster of this Message-ID, with why each member is in it")
		fs.StringVar(&action, "kind", "campaign", "campaign, files, urls or similarity")
	case "actions":
		fs.Var(&statuses, "status", "only these statuses")
		fs.IntVar(&top, "top", top, "the latest N actions")
	case "show":
		fs.BoolVar(&outcomes, "outcomes", false, "the per-copy outcomes")
	case "decline":
		fs.StringVar(&reason, "reason", "", "why")
	case "approve", "undo":
		fs.BoolVar(&noWait, "no-wait", false, "return once the action is started")
	}
	// An id may come before the flags: "eradicate show ID -outcomes".
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if id == "" {
		id = fs.Arg(0)
	}
	needsID := cmd == "show" || cmd == "approve" || cmd == "decline" || cmd == "undo"
	if needsID && id == "" {
		return fmt.Errorf("%s: the action id is required", cmd)
	}
	c, err := connect()
	if err != nil {
		return err
	}
	// A progress bar for people at a terminal, never in -json mode.
	showBar := !*asJSON && !noWait && !propose && isTerminal(stderr)
	var bar *progressBar
	idPath := "/eradicate/v1/actions/" + url.PathEscape(id)

	switch cmd {
	case "dryrun":
		var res api.DryRunResult
		if _, err := c.call(ctx, "POST", "/eradicate/v1/dryrun", api.DryRunRequest{Selection: crit.selection()}, &res); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, res)
		}
		return printDryRun(stdout, res)
	case "remediate":
		req := api.ActionRequest{Action: remediation.Action(action), Name: name, Description: description,
			Severity: remediation.Severity(severity), Selection: crit.selection(), Recipients: recipients,
			Confirm: confirm, RemoveInvites: removeInvites, Propose: propose}
		var total int64
		if showBar {
			total = c.barTotal(ctx, req.Selection)
		}
		var rec remediation.Record
		resp, err := c.call(ctx, "POST", "/eradicate/v1/actions", req, &rec)
		if err != nil {
			return err
		}
		if showBar {
			bar = newProgress(ctx, stderr, label(action, rec.ID), total)
		}
		return c.finish(ctx, resp, &rec, noWait, *asJSON, stdout, bar)
	case "release":
		var rec remediation.Record
		resp, err := c.call(ctx, "POST", "/eradicate/v1/quarantine/release",
			api.ReleaseRequest{MessageIDs: crit.messageIDs, Recipients: recipients, Name: name, Propose: propose}, &rec)
		if err != nil {
			return err
		}
		if showBar {
			bar = newProgress(ctx, stderr, label("release", rec.ID), 0)
		}
		return c.finish(ctx, resp, &rec, noWait, *asJSON, stdout, bar)
	case "clusters":
		q := url.Values{"kind": {action}}
		if name != "" {
			q.Set("message_id", name)
			var cl api.ClusterView
			if _, err := c.call(ctx, "GET", "/eradicate/v1/clusters/of?"+q.Encode(), nil, &cl); err != nil {
				return err
			}
			if !*asJSON {
				fmt.Fprintf(stdout, "%s cluster of %s: %d messages, %d copies\n", cl.Kind, cl.Seed, cl.Messages, cl.Copies)
			}
			var rows [][]any
			for _, m := range cl.Members {
				rows = append(rows, []any{m.MessageID, len(m.Copies), m.Why})
			}
			return printList(stdout, *asJSON, cl, "MESSAGE-ID\tCOPIES\tWHY", rows)
		}
		var list api.ClusterList
		if _, err := c.call(ctx, "GET", "/eradicate/v1/clusters?"+q.Encode(), nil, &list); err != nil {
			return err
		}
		var rows [][]any
		for _, v := range list.Value {
			rows = append(rows, []any{v.Seed, v.Kind, v.Links, v.Messages, v.Copies})
		}
		return printList(stdout, *asJSON, list, "SEED\tKIND\tLINKS\tMESSAGES\tCOPIES", rows)
	case "held":
		var list api.HeldList
		if _, err := c.call(ctx, "GET", "/eradicate/v1/quarantine", nil, &list); err != nil {
			return err
		}
		var rows [][]any
		for _, m := range list.Value {
			rows = append(rows, []any{m.Date.Format(time.DateTime), m.From, m.Subject, strings.Join(m.Recipients, ","), m.MessageID})
		}
		return printList(stdout, *asJSON, list, "DATE\tFROM\tSUBJECT\tRECIPIENTS\tMESSAGE-ID", rows)
	case "approve", "undo":
		var total int64
		if showBar {
			// The bar's total: what the proposal selects, or what the
			// action to undo moved.
			var orig remediation.Record
			if _, err := c.call(ctx, "GET", idPath, nil, &orig); err == nil {
				if cmd == "undo" {
					total = orig.Counts.Succeeded
				} else {
					total = c.barTotal(ctx, orig.Selection)
				}
			}
		}
		var acc api.AcceptedBody
		resp, err := c.call(ctx, "POST", idPath+"/"+cmd, nil, &acc)
		if err != nil {
			return err
		}
		if showBar {
			bar = newProgress(ctx, stderr, label(cmd, acc.ID), total)
		}
		return c.finish(ctx, resp, &remediation.Record{ID: acc.ID}, noWait, *asJSON, stdout, bar)
	case "decline":
		var rec remediation.Record
		if _, err := c.call(ctx, "POST", idPath+"/decline", api.DeclineRequest{Reason: reason}, &rec); err != nil {
			return err
		}
		return printRecord(stdout, &rec, *asJSON)
	case "show":
		if outcomes {
			return c.outcomes(ctx, idPath+"/outcomes", *asJSON, stdout)
		}
		var rec remediation.Record
		if _, err := c.call(ctx, "GET", idPath, nil, &rec); err != nil {
			return err
		}
		return printRecord(stdout, &rec, *asJSON)
	case "actions":
		q := url.Values{"top": {fmt.Sprint(top)}}
		if len(statuses) > 0 {
			q.Set("status", strings.Join(statuses, ","))
		}
		var list api.ActionList
		if _, err := c.call(ctx, "GET", "/eradicate/v1/actions?"+q.Encode(), nil, &list); err != nil {
			return err
		}
		var rows [][]any
		for _, r := range list.Value {
			rows = append(rows, []any{r.ID, r.Status, r.Action, r.Actor, r.DecidedBy, r.Counts.Total(), r.Name})
		}
		return printList(stdout, *asJSON, list, "ID\tSTATUS\tACTION\tACTOR\tDECIDED BY\tCOPIES\tNAME", rows)
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// finish waits for an accepted action (unless noWait) and prints its record.
func (c *apiClient) finish(ctx context.Context, resp *http.Response, rec *remediation.Record, noWait, asJSON bool, stdout io.Writer, bar *progressBar) error {
	if resp.StatusCode == http.StatusAccepted && !noWait {
		got, err := c.wait(ctx, resp.Header.Get("Location"), bar)
		if err != nil {
			return err
		}
		rec = got
	} else {
		bar.finish(rec)
		if resp.StatusCode == http.StatusAccepted {
			if _, err := c.call(ctx, "GET", resp.Header.Get("Location"), nil, rec); err != nil {
				return err
			}
		}
	}
	return printRecord(stdout, rec, asJSON)
}

func (c *apiClient) outcomes(ctx context.Context, path string, asJSON bool, stdout io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var eb api.ErrorBody
		if json.NewDecoder(resp.Body).Decode(&eb) != nil {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return &apiError{Status: resp.StatusCode, ErrorDetail: eb.Error}
	}
	if asJSON {
		_, err := io.Copy(stdout, resp.Body)
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MAILBOX\tFOLDER\tUID\tOUTCOME\tTO\tMESSAGE-ID\tDETAIL")
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var o remediation.Outcome
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil || o.Kind == 0 {
			var eb api.ErrorBody
			if json.Unmarshal(sc.Bytes(), &eb) == nil && eb.Error.Code != "" {
				tw.Flush()
				return &apiError{Status: http.StatusOK, ErrorDetail: eb.Error}
			}
			return fmt.Errorf("reading the outcomes: %q", sc.Text())
		}
		to := ""
		if !o.To.IsZero() {
			to = o.To.Folder
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", o.Copy.Mailbox, o.Copy.Folder, o.Copy.UID, o.Kind, to, o.MessageID, o.Detail)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return tw.Flush()
}

// printList prints v as JSON, or, for people, as a table: the header
// (columns separated by tabs) and one row of cells per item.
func printList(w io.Writer, asJSON bool, v any, header string, rows [][]any) error {
	if asJSON {
		return printJSON(w, v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, row := range rows {
		for i, cell := range row {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, cell)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printRecord(w io.Writer, r *remediation.Record, asJSON bool) error {
	if asJSON {
		return printJSON(w, r)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	row("id", r.ID)
	row("name", r.Name)
	row("action", string(r.Action))
	row("status", string(r.Status))
	row("actor", r.Actor)
	row("decided by", r.DecidedBy)
	row("created", ts(r.Created))
	row("finished", ts(r.Finished))
	row("expires", ts(r.Expires))
	c := r.Counts
	row("copies", fmt.Sprintf("%d succeeded, %d already there, %d not found, %d failed, %d skipped",
		c.Succeeded, c.AlreadyInDestination, c.NotFound, c.Failed, c.Skipped))
	row("undo of", r.UndoOf)
	row("undone by", r.UndoneBy)
	row("declined", r.DeclineReason)
	row("error", r.Error)
	for _, d := range r.Calendar {
		row("calendar", fmt.Sprintf("%s %s %q: %s (%s)", d.Owner, d.Verdict, d.Summary, d.Reason, d.Detail))
	}
	return tw.Flush()
}

func printDryRun(w io.Writer, res api.DryRunResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MAILBOX\tFOLDER\tCOPIES")
	owners := make([]string, 0, len(res.Folders))
	for o := range res.Folders {
		owners = append(owners, o)
	}
	sort.Strings(owners)
	for _, o := range owners {
		folders := make([]string, 0, len(res.Folders[o]))
		for f := range res.Folders[o] {
			folders = append(folders, f)
		}
		sort.Strings(folders)
		for _, f := range folders {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", o, f, res.Folders[o][f])
		}
	}
	fmt.Fprintf(tw, "total\t%d mailboxes\t%d\n", res.Mailboxes, res.Total)
	return tw.Flush()
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
