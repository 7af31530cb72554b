package tap

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// Data, the single-status form, answers with the first recipient's
// failure and with nil when every recipient got the message.
func TestSessionDataSingleStatus(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		s, err := New(Options{Downstream: DownstreamFunc(func(_ context.Context, env *Envelope, _ []byte) []error {
			out := make([]error, len(env.To))
			if refuse {
				out[1] = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "over quota"}
			}
			return out
		})})
		if err != nil {
			t.Fatal(err)
		}
		ss := &session{s: s}
		if err := ss.Mail("x@ext.test", nil); err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"a@corp.test", "b@corp.test"} {
			if err := ss.Rcpt(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		err = ss.Data(strings.NewReader("Subject: x\r\n\r\nhi\r\n"))
		ss.Reset()
		var se *smtp.SMTPError
		switch {
		case !refuse && err != nil:
			t.Fatalf("delivered to all, Data says %v", err)
		case refuse && (!errors.As(err, &se) || se.Code != 452):
			t.Fatalf("refused for b, Data says %v", err)
		}
	}
}
