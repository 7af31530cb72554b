package mailbox_test

import (
	"testing"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// When the per-message budget stops the reading of attached files, the
// message is kept, without an error, with the links read so far, and
// Truncated tells hunts it was read only in part. Ordinary messages are
// read whole.
func TestParseBombMessageIsKeptAndMarkedTruncated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 16 MiB bombs")
	}
	for name, raw := range bombMessages(t) {
		p, err := mailbox.Parse(raw)
		if err != nil {
			t.Errorf("%s: Parse: %v", name, err)
		}
		if p.MessageID != "bomb@bomb.example" || len(p.Attachments) != 16 {
			t.Errorf("%s: message id %q, %d attachments", name, p.MessageID, len(p.Attachments))
		}
		if !p.Truncated {
			t.Errorf("%s: Truncated not set", name)
		}
		if name == "docx-bombs" && (len(p.URLs) == 0 || p.URLs[0] != "https://bomb.example/docx") {
			t.Errorf("%s: URLs %q, want the first file's link", name, p.URLs)
		}
	}
	for name, raw := range map[string][]byte{"newsletter": benchNewsletter(), "attachment": benchAttachment(), "plain": benchPlain()} {
		if p, _ := mailbox.Parse(raw); p.Truncated {
			t.Errorf("ordinary message %s marked truncated", name)
		}
	}
}
