package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/cwriter"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/eradicate-dev/eradicate/remediation"
)

// progressBar shows an action's progress on a terminal: the copies done
// (of the copies selected, when known beforehand) and the action's status.
// A nil *progressBar shows nothing.
type progressBar struct {
	p      *mpb.Progress
	bar    *mpb.Bar
	total  int64
	status atomic.Value // string
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool { return cwriter.New(w).IsTerminal() }

// barWidth is the bar's width in columns.
const barWidth = 40

// newProgress returns a bar drawn on w for an action labelled label, of
// total copies (0: not known). The caller decides that w is a terminal.
func newProgress(ctx context.Context, w io.Writer, label string, total int64) *progressBar {
	return newProgressWidth(ctx, w, label, total, barWidth)
}

// newProgressWidth is newProgress with the width of the bar, which is also
// the line's where w's width is not known.
func newProgressWidth(ctx context.Context, w io.Writer, label string, total int64, width int) *progressBar {
	b := &progressBar{total: total}
	b.status.Store("queued")
	b.p = mpb.NewWithContext(ctx, mpb.WithOutput(w), mpb.WithWidth(width), mpb.WithAutoRefresh())
	status := decor.Any(func(decor.Statistics) string { return b.status.Load().(string) }, decor.WCSyncSpaceR)
	if total > 0 {
		// Made without a total, so that the total may change (SetTotal
		// is a no-op on a bar made with one) and the bar completes only
		// in finish.
		b.bar = b.p.AddBar(0,
			mpb.PrependDecorators(decor.Name(label, decor.WCSyncSpaceR), status),
			mpb.AppendDecorators(decor.CountersNoUnit("%d / %d copies", decor.WCSyncSpace), decor.Percentage(decor.WCSyncSpace)))
		b.bar.SetTotal(total, false)
	} else {
		b.bar = b.p.AddSpinner(0,
			mpb.PrependDecorators(decor.Name(label, decor.WCSyncSpaceR), status),
			mpb.AppendDecorators(decor.CurrentNoUnit("%d copies", decor.WCSyncSpace)))
	}
	return b
}

// update shows rec's counts and status.
func (b *progressBar) update(rec *remediation.Record) {
	if b == nil {
		return
	}
	b.status.Store(string(rec.Status))
	n := rec.Counts.Total()
	if n > b.total && b.total > 0 {
		// More copies than the dry run saw (mail delivered meanwhile).
		b.total = n
		b.bar.SetTotal(n, false)
	}
	// (finish sets the total to the final count: fewer copies than the
	// dry run saw, some moved meanwhile, still end at 100 %.)
	b.bar.SetCurrent(n)
}

// finish shows rec as the action's end (nil: stopped) and waits for the
// bar to be drawn for the last time.
func (b *progressBar) finish(rec *remediation.Record) {
	if b == nil {
		return
	}
	if rec == nil {
		b.bar.Abort(false)
	} else {
		b.update(rec)
		b.bar.SetTotal(-1, true)
	}
	b.p.Wait()
}

// barTotal is the number of copies an action is expected to touch, for its
// bar: found by a dry run of sel; 0 when it cannot be known.
func (c *apiClient) barTotal(ctx context.Context, sel remediation.Selection) int64 {
	if sel.Criteria == nil && len(sel.Copies) == 0 {
		return 0
	}
	var res struct {
		Total int64 `json:"total"`
	}
	if _, err := c.call(ctx, "POST", "/eradicate/v1/dryrun", map[string]any{"selection": sel}, &res); err != nil {
		return 0 // a caller without the analyst role: a bar without a total
	}
	return res.Total
}

// label is an action's name on its bar.
func label(cmd, id string) string {
	if id == "" {
		return cmd
	}
	return fmt.Sprintf("%s %s", cmd, id)
}
