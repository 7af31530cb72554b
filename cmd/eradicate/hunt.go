package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/eradicate-dev/eradicate/api"
)

// huntCmd lists copies from the events index: GET
// /security/collaboration/analyzedEmails with an OData $filter made of the
// flags (joined by "and" with -filter) and $top.
func huntCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hunt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	connect, asJSON := clientFlags(fs)
	filter := fs.String("filter", "", "an OData $filter, e.g. \"senderDetail/fromAddress eq 'x@evil.example'\"")
	top := fs.Int("top", 0, "the most copies to list, newest first (default: the server's, 100)")
	msgID := fs.String("message-id", "", "the Message-ID (networkMessageId)")
	sender := fs.String("sender", "", "the header From address (senderDetail/fromAddress)")
	recipient := fs.String("recipient", "", "the mailbox holding the copy (recipientEmailAddress)")
	subject := fs.String("subject", "", "a substring of the subject")
	since := fs.String("since", "", "delivered at or after: a duration back from now (24h) or an RFC 3339 time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("hunt: unexpected argument %q", fs.Arg(0))
	}
	var terms []string
	if *filter != "" {
		terms = append(terms, "("+*filter+")")
	}
	for _, f := range []struct{ prop, v string }{
		{"networkMessageId", *msgID}, {"senderDetail/fromAddress", *sender}, {"recipientEmailAddress", *recipient},
	} {
		if f.v != "" {
			terms = append(terms, fmt.Sprintf("%s eq %s", f.prop, odataString(f.v)))
		}
	}
	if *subject != "" {
		terms = append(terms, fmt.Sprintf("contains(subject,%s)", odataString(*subject)))
	}
	if *since != "" {
		t, err := sinceTime(*since, time.Now())
		if err != nil {
			return fmt.Errorf("hunt: -since: %w", err)
		}
		terms = append(terms, "loggedDateTime ge "+t.UTC().Format(time.RFC3339))
	}
	if len(terms) == 0 {
		return fmt.Errorf("hunt: say what to hunt for: -filter, -message-id, -sender, -recipient or -subject")
	}
	q := url.Values{"$filter": {strings.Join(terms, " and ")}}
	if *top > 0 {
		q.Set("$top", fmt.Sprint(*top))
	}
	c, err := connect()
	if err != nil {
		return err
	}
	var list struct {
		Value []api.AnalyzedEmail `json:"value"`
	}
	if _, err := c.call(ctx, "GET", "/security/collaboration/analyzedEmails?"+q.Encode(), nil, &list); err != nil {
		return err
	}
	var rows [][]any
	for _, e := range list.Value {
		from, where := "", ""
		if e.SenderDetail != nil {
			from = e.SenderDetail.FromAddress
		}
		if e.LatestDelivery != nil {
			where = e.LatestDelivery.Folder
		}
		rows = append(rows, []any{e.LoggedDateTime.Format(time.DateTime), e.RecipientEmailAddress, where, from, e.Subject, e.NetworkMessageID})
	}
	return printList(stdout, *asJSON, list, "DELIVERED\tRECIPIENT\tFOLDER\tFROM\tSUBJECT\tMESSAGE-ID", rows)
}

// odataString quotes s as an OData string literal.
func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sinceTime reads a duration back from now, or an RFC 3339 time.
func sinceTime(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%q: a duration back from now must be positive", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a duration (24h) nor an RFC 3339 time", s)
	}
	return t, nil
}
