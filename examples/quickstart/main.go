package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/rules"
	"github.com/eradicate-dev/eradicate/tap"
)

const (
	alice = "alice@corp.example"
	bob   = "bob@corp.example"
	carol = "carol@corp.example"
	dave  = "dave@corp.example"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	ctx := context.Background()
	tenant := mock.New(nil)
	for _, u := range []string{alice, bob, carol, dave} {
		if err := tenant.AddUser(u); err != nil {
			return err
		}
	}

	// A small day of mail.
	fmt.Println("== A day of mail arrives")
	day := []struct {
		raw  []byte
		opts *mock.DeliverOptions
		what string
	}{
		{plain("standup-1@corp.example", bob, "Stand-up notes", "Notes from today's stand-up are in the wiki.", alice, carol),
			&mock.DeliverOptions{EnvelopeFrom: bob, SenderCopy: true}, "internal note bob -> alice, carol"},
		{plain("q4-plan@partner.example", "pm@partner.example", "Q4 plan", "Attached is our Q4 plan.", dave),
			nil, "partner -> dave"},
		{plain("news-0923@news.shop.example", "news@news.shop.example", "This week's deals", "50% off everything. https://shop.example/deals", alice, bob, carol, dave),
			nil, "newsletter -> everyone"},
		{phishInvite(alice, bob, carol),
			&mock.DeliverOptions{EnvelopeFrom: "bounce@mailer.evil-payroll.example"}, "phishing invite 'Payroll update' -> alice, bob, carol"},
		{plain("inv-7731@supplier.example", "billing@supplier.example", "Invoice 7731", "Please find invoice 7731. https://supplier.example/i/7731", alice, dave),
			&mock.DeliverOptions{Role: mailbox.RoleQuarantine}, "supplier invoice, quarantined by the filter -> alice, dave"},
	}
	for _, m := range day {
		if _, err := tenant.Deliver(ctx, m.raw, m.opts); err != nil {
			return fmt.Errorf("deliver %s: %w", m.what, err)
		}
		fmt.Println("  delivered:", m.what)
	}
	// Carol also adds the attached .ics to her calendar herself.
	carolCopy, err := findCopy(ctx, tenant, carol, "payroll-2026@evil-payroll.example")
	if err != nil {
		return err
	}
	if _, err := tenant.ImportICS(ctx, carol, carolCopy, "invite.ics"); err != nil {
		return fmt.Errorf("carol imports the .ics: %w", err)
	}
	fmt.Println("  carol imported the invite's .ics attachment into her calendar")

	// The engine, with the file journal (the embedded default).
	dir, err := os.MkdirTemp("", "eradicate-quickstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	j, err := journal.OpenFile(filepath.Join(dir, "journal"), nil)
	if err != nil {
		return err
	}
	defer j.Close()
	engine, err := remediation.New(tenant, tenant, j, nil)
	if err != nil {
		return err
	}

	// Hunt for the campaign and dry-run.
	fmt.Println("\n== Hunting: mail from evil-payroll.example")
	campaign := remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil-payroll.example"}}}
	preview, err := engine.DryRun(ctx, campaign)
	if err != nil {
		return err
	}
	fmt.Printf("  dry run: %d copies in %d mailboxes\n", preview.Total, preview.Mailboxes)
	for _, mb := range sortedKeys(preview.Folders) {
		for _, f := range sortedKeys(preview.Folders[mb]) {
			fmt.Printf("    %-20s %-8s %d\n", mb, f, preview.Folders[mb][f])
		}
	}

	// The events index: a crawler reads every mailbox once (later crawls
	// read only new mail); hunts and Explorer's views then answer from the
	// index instead of scanning every mailbox.
	fmt.Println("\n== Hunting in the events index")
	index, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "index.db"), nil)
	if err != nil {
		return err
	}
	defer index.Close()
	// One worker: copies are indexed, and listed, in mailbox order.
	crawled, err := hunt.NewCrawler(tenant, index, &hunt.CrawlerOptions{Workers: 1}).Crawl(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("  crawled %d mailboxes: %d copies indexed\n", crawled.Mailboxes, crawled.Fetched)
	phishURL := mailbox.Criteria{URLs: []string{"https://evil-payroll.example/verify"}}
	phishID, phishFile, err := huntIndex(ctx, index, "URL https://evil-payroll.example/verify", phishURL)
	if err != nil {
		return err
	}
	if _, _, err := huntIndex(ctx, index, "file "+phishFile[:12]+"…", mailbox.Criteria{AttachmentSHA256: []string{phishFile}}); err != nil {
		return err
	}
	// Explorer's charts: copies per URL domain and per file, hour by hour.
	for _, by := range []hunt.Dimension{hunt.ByURLDomain, hunt.ByFile} {
		fmt.Printf("  copies by %s, per hour:\n", by)
		for n, err := range index.Counts(ctx, hunt.CountQuery{By: by, Top: 3, Bucket: time.Hour}) {
			if err != nil {
				return err
			}
			key := n.Key
			if by == hunt.ByFile {
				key = key[:12] + "…"
			}
			fmt.Printf("    %s  %-22s %d\n", n.Start.UTC().Format("15:04"), key, n.Copies)
		}
	}

	// Hard delete, with approval by a second person (four eyes).
	fmt.Println("\n== Hard delete of the campaign (proposed, then approved by a second person)")
	prop, err := engine.Propose(ctx, remediation.Request{
		Action: remediation.HardDelete, Name: "Payroll invite phish", Severity: remediation.SeverityHigh,
		Source: remediation.SourceHunting, Actor: "analyst@corp.example", Selection: campaign,
	})
	if err != nil {
		return err
	}
	if _, err := engine.Approve(ctx, prop.ID, "analyst@corp.example"); !errors.Is(err, remediation.ErrFourEyes) {
		return fmt.Errorf("the proposer's own approval was not refused: %v", err)
	}
	fmt.Println("  approval by the proposer refused: four eyes; the proposal stays pending")
	hard, err := engine.Approve(ctx, prop.ID, "soc-lead@corp.example")
	if err != nil {
		return err
	}
	fmt.Printf("  %s: %d purged\n", hard.Status, hard.Counts.Succeeded)
	printCalendar(hard.Calendar)
	// The index learns what the action did; the entity view shows it.
	if err := hunt.RecordAction(ctx, index, hard, engine.Outcomes(ctx, hard.ID)); err != nil {
		return err
	}
	if err := printEntity(ctx, index, phishID); err != nil {
		return err
	}

	// Quarantine: release the false positive to dave only.
	fmt.Println("\n== Quarantine")
	held, err := engine.Held(ctx, nil)
	if err != nil {
		return err
	}
	for _, h := range held {
		fmt.Printf("  held: %q from %s for %s\n", h.Subject, h.From, strings.Join(h.Recipients, ", "))
	}
	if _, err := engine.Execute(ctx, remediation.Request{
		Action: remediation.Release, Name: "Release supplier invoice", Actor: "soc-lead@corp.example",
		Selection:  remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"inv-7731@supplier.example"}}},
		Recipients: []string{dave},
	}); err != nil {
		return err
	}
	_, err = engine.Execute(ctx, remediation.Request{
		Action: remediation.Release, Actor: "soc-lead@corp.example",
		Selection:  remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"inv-7731@supplier.example"}}},
		Recipients: []string{bob},
	})
	fmt.Println("  release to bob refused:", err)
	_, err = engine.Execute(ctx, remediation.Request{
		Action: remediation.Release, Actor: "soc-lead@corp.example",
		Selection:  remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"inv-7731@supplier.example"}}},
		Recipients: []string{dave},
	})
	fmt.Println("  second release to dave refused:", err)
	hist, err := engine.ReleaseHistory(ctx)
	if err != nil {
		return err
	}
	for _, ev := range hist {
		fmt.Printf("  released %s to %s by %s\n", ev.MessageID, strings.Join(ev.Recipients, ", "), ev.DecidedBy)
	}

	// Soft delete the newsletter, then undo.
	fmt.Println("\n== Soft delete of the newsletter, then undo")
	soft, err := engine.Execute(ctx, remediation.Request{
		Action: remediation.SoftDelete, Name: "Newsletter", Severity: remediation.SeverityLow,
		Source: remediation.SourceExplorer, Actor: "analyst@corp.example",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{Senders: []string{"news@news.shop.example"}}},
	})
	if err != nil {
		return err
	}
	fmt.Printf("  soft delete: %s, %d copies to recoverable items\n", soft.Status, soft.Counts.Succeeded)
	undo, err := engine.Undo(ctx, soft.ID, "analyst@corp.example")
	if err != nil {
		return err
	}
	fmt.Printf("  undo: %s, %d copies back where they were\n", undo.Status, undo.Counts.Succeeded)
	_, err = engine.Undo(ctx, hard.ID, "analyst@corp.example")
	fmt.Println("  undo of the hard delete refused:", err)

	// A partner's meeting invite taken for phishing: soft-deleted with the
	// calendar entries it created (RemoveInvites), then restored by undo.
	fmt.Println("\n== Soft delete of a meeting invite with its calendar entries, then undo")
	if _, err := tenant.Deliver(ctx, partnerInvite(carol, dave), nil); err != nil {
		return err
	}
	sdInv, err := engine.Execute(ctx, remediation.Request{
		Action: remediation.SoftDelete, Name: "Suspicious kick-off invite", RemoveInvites: true,
		Source: remediation.SourceExplorer, Actor: "analyst@corp.example",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"kickoff-q1@partner.example"}}},
	})
	if err != nil {
		return err
	}
	fmt.Printf("  soft delete: %s, %d copies to recoverable items\n", sdInv.Status, sdInv.Counts.Succeeded)
	printCalendar(sdInv.Calendar)
	undoInv, err := engine.Undo(ctx, sdInv.ID, "analyst@corp.example")
	if err != nil {
		return err
	}
	fmt.Printf("  undo: %s, %d copies back\n", undoInv.Status, undoInv.Counts.Succeeded)
	printCalendar(undoInv.Calendar)

	// Delivery through the tap: a detection rule quarantines a message
	// before it lands, the action center says why, and it is released.
	if err := quarantineAtDelivery(ctx, tenant, engine); err != nil {
		return err
	}

	// The action center.
	fmt.Println("\n== Action center")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACTION\tNAME\tSOURCE\tACTOR\tDECIDED BY\tSTATUS\tOK\tALREADY\tNOT FOUND\tFAILED\tSKIPPED\tLINK")
	for r, err := range engine.Query(ctx, remediation.Filter{}) {
		if err != nil {
			return err
		}
		link := ""
		if r.UndoOf != "" {
			link = "undoes " + short(r.UndoOf)
		} else if r.UndoneBy != "" {
			link = "undone by " + short(r.UndoneBy)
		}
		c := r.Counts
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", short(r.ID), r.Action, r.Name, r.Source,
			r.Actor, r.DecidedBy, r.Status, c.Succeeded, c.AlreadyInDestination, c.NotFound, c.Failed, c.Skipped, link)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// The short ids of the table name their actions.
	got, err := engine.Get(ctx, short(hard.ID))
	if err != nil {
		return err
	}
	fmt.Printf("  engine.Get(%q): %s %s, decided by %s\n", short(hard.ID), got.Action, got.Status, got.DecidedBy)
	return nil
}

// quarantineAtDelivery puts the delivery tap in front of the tenant,
// with a detection rule that quarantines gift-card lures, has the MTA
// deliver one over LMTP, and releases it to one of its recipients.
func quarantineAtDelivery(ctx context.Context, tenant *mock.Tenant, engine *remediation.Engine) error {
	fmt.Println("\n== Delivery through the tap: quarantined before it lands, then released")
	set := rules.New(engine, nil)
	if err := set.Add(rules.Rule{
		Name: "Gift-card lure", Description: "gift card requests from a look-alike of corp.example",
		Criteria: mailbox.Criteria{SenderDomains: []string{"c0rp-example.net"}},
		Action:   remediation.Quarantine, Mode: rules.ModeExecute,
	}); err != nil {
		return err
	}
	adapter := tap.NewRules(engine, set, nil)
	srv, err := tap.New(tap.Options{Downstream: tap.Append(tenant), Decider: adapter, Recorder: adapter})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go srv.Serve(l)
	defer srv.Shutdown(ctx)

	// What the MTA (Postfix) does: one LMTP transaction, a status per
	// recipient.
	lure := plain("gift-42@c0rp-example.net", "ceo@c0rp-example.net", "Quick favour: gift cards",
		"Are you at your desk? I need 5 gift cards for a client today.", alice, bob)
	if err := deliverLMTP(l.Addr().String(), "ceo@c0rp-example.net", []string{alice, bob}, lure); err != nil {
		return err
	}
	for _, u := range []string{alice, bob} {
		fmt.Printf("  %s: delivered to %s\n", u, folderOf(ctx, tenant, u, "gift-42@c0rp-example.net"))
	}
	held, err := engine.Held(ctx, &mailbox.Criteria{MessageIDs: []string{"gift-42@c0rp-example.net"}})
	if err != nil {
		return err
	}
	for _, h := range held {
		for _, why := range h.Reasons {
			fmt.Printf("  held: %q for %s, by rule %q (%s), action %s\n", h.Subject, strings.Join(h.Recipients, ", "),
				why.RuleName, why.Description, short(why.RecordID))
		}
	}
	rel, err := engine.Execute(ctx, remediation.Request{
		Action: remediation.Release, Name: "Release to alice (she knows the sender)", Actor: "soc-lead@corp.example",
		Selection:  remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"gift-42@c0rp-example.net"}}},
		Recipients: []string{alice},
	})
	if err != nil {
		return err
	}
	fmt.Printf("  release to alice: %s, %d copy to the inbox\n", rel.Status, rel.Counts.Succeeded)
	for _, u := range []string{alice, bob} {
		fmt.Printf("  %s: now in %s\n", u, folderOf(ctx, tenant, u, "gift-42@c0rp-example.net"))
	}
	return nil
}

// deliverLMTP sends raw to rcpts over LMTP, as an MTA does.
func deliverLMTP(addr, from string, rcpts []string, raw []byte) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("mta.corp.example"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	_, err = w.CloseWithLMTPResponse()
	return err
}

// folderOf returns the folder of owner's copy of the message id.
func folderOf(ctx context.Context, st mailbox.Store, owner, id string) string {
	a, err := findCopy(ctx, st, owner, id)
	if err != nil {
		return err.Error()
	}
	return a.Folder
}

// huntIndex prints the copies c selects in the index, and returns the
// network id and the first attachment's SHA-256 of the last one.
func huntIndex(ctx context.Context, index hunt.Store, what string, c mailbox.Criteria) (id, sha string, err error) {
	fmt.Printf("  hunt by %s:\n", what)
	for cp, err := range index.Copies(ctx, hunt.Query{Criteria: &c}) {
		if err != nil {
			return "", "", err
		}
		fmt.Printf("    %-20s %-6s %q\n", cp.Mailbox, cp.Address.Folder, cp.Message.Subject)
		id = cp.Message.NetworkID
	}
	if id == "" {
		return "", "", fmt.Errorf("the index holds no copy of %s", what)
	}
	ent, err := index.Entity(ctx, id)
	if err != nil {
		return "", "", err
	}
	if len(ent.Message.Attachments) > 0 {
		sha = ent.Message.Attachments[0].SHA256
	}
	return id, sha, nil
}

// printEntity prints the entity view of a message: what it carries,
// every copy and where it is now, and what was done to it by whom.
func printEntity(ctx context.Context, index hunt.Store, id string) error {
	ent, err := index.Entity(ctx, id)
	if err != nil {
		return err
	}
	m := ent.Message
	fmt.Printf("  entity view: %q from %s (network id %s)\n", m.Subject, m.From, m.NetworkID)
	fmt.Printf("    urls: %s\n", strings.Join(m.URLs, " "))
	for _, a := range m.Attachments {
		fmt.Printf("    file: %s %s %d bytes sha256 %s…\n", a.Name, a.Type, a.Size, a.SHA256[:12])
	}
	for _, cp := range ent.Copies {
		now := cp.Address.Folder
		if !cp.Removed.IsZero() {
			now = "purged"
		}
		fmt.Printf("    copy: %-20s delivered to %s, now %s\n", cp.Mailbox, cp.DeliveredFolder, now)
	}
	for _, a := range ent.Annotations {
		fmt.Printf("    %s %s on %s's copy by %s: %s\n", a.Kind, a.Name, a.Address.Mailbox, a.Actor, a.Outcome)
	}
	return nil
}

// short returns the random tail of an action id; the engine accepts it as
// the id.
func short(id string) string {
	if i := strings.LastIndexByte(id, '-'); i >= 0 {
		return id[i+1:]
	}
	return id
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func findCopy(ctx context.Context, st mailbox.Store, owner, id string) (mailbox.Address, error) {
	for m, err := range st.Search(ctx, owner, mailbox.Criteria{MessageIDs: []string{id}}) {
		if err != nil {
			return mailbox.Address{}, err
		}
		return m.Address, nil
	}
	return mailbox.Address{}, fmt.Errorf("no copy of %s in %s", id, owner)
}

func header(id, from, subject string, to []string, date time.Time) string {
	return "Message-ID: <" + id + ">\r\nFrom: " + from + "\r\nTo: " + strings.Join(to, ", ") +
		"\r\nSubject: " + subject + "\r\nDate: " + date.Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\n"
}

var today = time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)

func plain(id, from, subject, body string, to ...string) []byte {
	return []byte(header(id, from, subject, to, today) + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
}

// phishInvite is a meeting invite with the iCalendar object inline and
// attached as invite.ics, as Outlook sends it.
// printCalendar prints calendar decisions by owner.
func printCalendar(decs []remediation.CalendarDecision) {
	fmt.Println("  calendar entries:")
	slices.SortFunc(decs, func(a, b remediation.CalendarDecision) int { return strings.Compare(a.Owner, b.Owner) })
	for _, d := range decs {
		fmt.Printf("    %-8s %-20s %q: %s\n", d.Verdict, d.Owner, d.Summary, d.Detail)
	}
}

// partnerInvite is a partner's meeting invite, as Google Calendar sends
// it.
func partnerInvite(to ...string) []byte {
	var att strings.Builder
	for _, t := range to {
		att.WriteString("ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:" + t + "\r\n")
	}
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nMETHOD:REQUEST\r\n" +
		"BEGIN:VEVENT\r\nUID:kickoff-q1-2027@partner.example\r\nSEQUENCE:0\r\nDTSTAMP:20261123T100000Z\r\n" +
		"DTSTART:20261201T090000Z\r\nDTEND:20261201T100000Z\r\nSUMMARY:Q1 kick-off\r\n" +
		"ORGANIZER;CN=Partner PM:mailto:pm@partner.example\r\n" + att.String() +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	return []byte(header("kickoff-q1@partner.example", "Partner PM <pm@partner.example>", "Invitation: Q1 kick-off", to, today.Add(2*time.Hour)) +
		"Content-Type: multipart/alternative; boundary=\"=_b2\"\r\n\r\n" +
		"--=_b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYou have been invited to Q1 kick-off.\r\n" +
		"--=_b2\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n" + ics +
		"--=_b2--\r\n")
}

func phishInvite(to ...string) []byte {
	var att strings.Builder
	for _, t := range to {
		att.WriteString("ATTENDEE;CN=" + strings.Split(t, "@")[0] + ";PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:" + t + "\r\n")
	}
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\nMETHOD:REQUEST\r\n" +
		"BEGIN:VEVENT\r\nUID:040000008200E00074C5B7101A82E0080000000042AC\r\nSEQUENCE:0\r\nDTSTAMP:20261123T080000Z\r\n" +
		"DTSTART:20261124T140000Z\r\nDTEND:20261124T143000Z\r\nSUMMARY:Payroll update - action required\r\n" +
		"LOCATION:https://evil-payroll.example/verify\r\n" +
		"ORGANIZER;CN=HR Payroll:mailto:hr@evil-payroll.example\r\n" + att.String() +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	return []byte(header("payroll-2026@evil-payroll.example", "HR Payroll <hr@evil-payroll.example>", "Payroll update - action required", to, today.Add(time.Hour)) +
		"Content-Type: multipart/mixed; boundary=\"=_b1\"\r\n\r\n" +
		"--=_b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nConfirm your bank details before the meeting: https://evil-payroll.example/verify\r\n" +
		"--=_b1\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n" + ics +
		"--=_b1\r\nContent-Type: application/ics; name=\"invite.ics\"\r\nContent-Disposition: attachment; filename=\"invite.ics\"\r\n\r\n" + ics +
		"--=_b1--\r\n")
}
