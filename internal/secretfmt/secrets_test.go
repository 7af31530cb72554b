package secretfmt_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
)

// The secrets of the test, each distinct so that a leak names its source.
var secrets = []string{
	"imap-master-pw-1", "imap-user-pw-2", "imap-password-3",
	"cal-admin-pw-4", "cal-user-pw-5", "cal-provenance-key-6", "cal-credential-pw-7",
}

// leaks returns the forms in which a secret shows in out: as it is, in
// hex (%x), in base64 (json of a []byte), or as the bytes of a []byte
// (%v, %d, %#v).
func leaks(out string) []string {
	var found []string
	low := strings.ToLower(out)
	for _, s := range secrets {
		b := []byte(s)
		forms := []string{
			s, hex.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b)[:len(s)],
			strings.Trim(fmt.Sprint(b), "[]"), strings.Trim(fmt.Sprintf("%#v", b), "[]byte{}"),
		}
		for _, form := range forms {
			if strings.Contains(out, form) || strings.Contains(low, strings.ToLower(form)) {
				found = append(found, form)
			}
		}
	}
	return found
}

// secretHolders are the values of every type that holds a secret, as a
// caller builds them.
func secretHolders(t *testing.T) map[string]any {
	master := &imapstore.MasterUser{User: "eradicate-admin", Password: "imap-master-pw-1"}
	static := imapstore.StaticCredentials{"alice@example.com": {Username: "alice", Password: "imap-user-pw-2"}}
	masterCfg := imapstore.Config{Addr: "imap.example.com:993", Master: master, Mailboxes: []string{"alice@example.com"}}
	userCfg := imapstore.Config{Addr: "imap.example.com:993", Credentials: static, Mailboxes: []string{"alice@example.com"}}
	masterStore, err := imapstore.New(masterCfg)
	require.NoError(t, err)
	userStore, err := imapstore.New(userCfg)
	require.NoError(t, err)

	admin := caldavstore.Admin("admin", "cal-admin-pw-4")
	perUser := caldavstore.PerUser(map[string]caldavstore.Credential{"alice@example.com": {Username: "alice", Password: "cal-user-pw-5"}})
	opts := caldavstore.Options{Home: caldavstore.HomeUnder("/"), ProvenanceKey: []byte("cal-provenance-key-6")}
	adminStore, err := caldavstore.New("https://cal.example.com/", admin, &opts)
	require.NoError(t, err)
	userStore2, err := caldavstore.New("https://cal.example.com/", perUser, &caldavstore.Options{ProvenanceKey: []byte("cal-provenance-key-6")})
	require.NoError(t, err)

	return map[string]any{
		"imapstore.Password":          imapstore.Password("imap-password-3"),
		"imapstore.MasterUser":        *master,
		"*imapstore.MasterUser":       master,
		"imapstore.Credential":        static["alice@example.com"],
		"imapstore.StaticCredentials": static,
		"imapstore.Config master":     masterCfg,
		"*imapstore.Config master":    &masterCfg,
		"imapstore.Config users":      userCfg,
		"*imapstore.Config users":     &userCfg,
		"*imapstore.Credential":       &imapstore.Credential{Username: "alice", Password: "imap-user-pw-2"},
		"*caldavstore.Credential":     &caldavstore.Credential{Username: "bob", Password: "cal-credential-pw-7"},
		"*imapstore.Store master":     masterStore,
		"*imapstore.Store users":      userStore,
		"caldavstore.Credential":      caldavstore.Credential{Username: "bob", Password: "cal-credential-pw-7"},
		"caldavstore.Admin":           admin,
		"caldavstore.PerUser":         perUser,
		"caldavstore.Options":         opts,
		"*caldavstore.Options":        &opts,
		"caldavstore.ProvenanceKey":   opts.ProvenanceKey,
		"*caldavstore.Store admin":    adminStore,
		"*caldavstore.Store per user": userStore2,
	}
}

// TestSecretsNeverInOutput: admin and user passwords and the provenance
// key appeared with %v, %+v, %s, %q, %d, in slog's text and JSON handlers
// and in json.Marshal of the types that hold them. Every verb, handler
// and encoder is tried on every such type; no form of a secret may show.
func TestSecretsNeverInOutput(t *testing.T) {
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%10.3v", "%T"}
	for name, v := range secretHolders(t) {
		t.Run(name, func(t *testing.T) {
			for _, verb := range verbs {
				out := fmt.Sprintf(verb, v)
				require.Empty(t, leaks(out), "%s of %s: %s", verb, name, out)
				// Inside a slice and a map, as a caller's own value would
				// hold it.
				out = fmt.Sprintf(verb, []any{v}) + fmt.Sprintf(verb, map[string]any{"k": v})
				require.Empty(t, leaks(out), "%s of %s in a slice or map: %s", verb, name, out)
			}
			var buf bytes.Buffer
			for hname, h := range map[string]slog.Handler{
				"text": slog.NewTextHandler(&buf, nil),
				"json": slog.NewJSONHandler(&buf, nil),
			} {
				buf.Reset()
				slog.New(h).Info("config", "value", v, slog.Group("g", "nested", v))
				require.Empty(t, leaks(buf.String()), "slog %s handler of %s: %s", hname, name, buf.String())
			}
			if b, err := json.Marshal(v); err == nil {
				require.Empty(t, leaks(string(b)), "json.Marshal of %s: %s", name, b)
			}
			if b, err := json.Marshal(map[string]any{"v": v}); err == nil {
				require.Empty(t, leaks(string(b)), "json.Marshal of %s in a map: %s", name, b)
			}
		})
	}
}
