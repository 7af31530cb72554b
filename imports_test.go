package eradicate_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const modulePath = "github.com/eradicate-dev/eradicate"

// importRules say which of the module's packages a package may import in
// its non-test files (DESIGN.md, "Layout and direction of imports"): mailbox
// and calendar are leaves, cluster reads mailbox, remediation uses those
// three and never its own sub-packages, backends import only the package
// whose interface they implement. A rule's dir matches that package, or,
// ending in "/...", it and every package below it; the first matching rule
// applies. An allowed entry ending in "/" allows every package below it.
var importRules = []struct {
	dir     string
	allowed []string
}{
	{"mailbox/imapstore", []string{"mailbox", "internal/"}},
	{"mailbox/mailboxtest", []string{"mailbox", "internal/"}},
	{"mailbox/...", []string{"mailbox", "mailbox/internal/", "internal/"}},
	{"calendar/caldavstore", []string{"calendar", "calendar/internal/", "internal/"}},
	{"calendar/calendartest", []string{"calendar", "internal/"}},
	{"calendar/imipproc", []string{"calendar", "mailbox", "internal/"}},
	{"calendar/...", []string{"calendar", "calendar/internal/", "internal/"}},
	{"cluster/...", []string{"mailbox", "internal/"}},
	{"remediation", []string{"mailbox", "calendar", "calendar/imipproc", "internal/"}},
	{"remediation/automation", []string{"remediation", "cluster", "mailbox", "calendar", "internal/"}},
	{"remediation/rules", []string{"remediation", "mailbox", "calendar", "internal/"}},
	{"remediation/journal/pgjournal", []string{"remediation", "remediation/journal"}},
	{"remediation/journal/...", []string{"remediation", "remediation/journal", "mailbox", "calendar", "internal/"}},
	{"remediation/journaltest", []string{"remediation", "remediation/journal", "mailbox", "calendar", "internal/"}},
	{"api", []string{"remediation", "remediation/rules", "cluster", "mailbox", "calendar", "internal/"}},
	{"cmd/...", []string{"api", "tap", "hunt", "hunt/", "remediation", "remediation/", "mailbox", "mailbox/", "calendar", "calendar/", "cluster", "mock", "internal/"}},
	// The index's store also keeps, beside the index, the cluster log and
	// the detection rules: it implements cluster.Log and rules.Store.
	{"hunt/sqlstore", []string{"hunt", "cluster", "remediation/rules", "mailbox", "internal/"}},
	{"hunt/hunttest", []string{"hunt", "cluster", "remediation", "remediation/rules", "mailbox", "internal/"}},
	{"hunt/huntapi", []string{"hunt", "api", "remediation", "mailbox", "internal/"}},
	{"hunt", []string{"mailbox", "remediation", "internal/"}},
	{"tap", []string{"mailbox", "calendar/imipproc", "cluster", "remediation", "remediation/rules"}},
	{"internal/...", []string{"internal/", "mailbox", "calendar"}},
}

// testEnvironments are the packages that only tests import: servers started
// for a test, corpora, the remediation sub-packages' shared engine set-up. An
// entry ending in "/" names every package below it.
var testEnvironments = []string{"internal/testenv/", "remediation/internal/rtenv"}

// TestImportDirection checks every package of the module against
// importRules, so that an import against the layout fails here rather than
// in review.
func TestImportDirection(t *testing.T) {
	require.FileExists(t, "go.mod")
	imports := map[string]map[string]bool{} // package dir -> module packages imported
	err := walkSources(".", parser.ImportsOnly, func(path string, _ *token.FileSet, f *ast.File) error {
		dir := filepath.ToSlash(filepath.Dir(path))
		if imports[dir] == nil {
			imports[dir] = map[string]bool{}
		}
		for _, spec := range f.Imports {
			p, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			if rest, ok := strings.CutPrefix(p, modulePath+"/"); ok {
				imports[dir][rest] = true
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, imports, "remediation", "the walk must start in the module root")

	for dir, imps := range imports {
		rule := -1
		for i, r := range importRules {
			if base, ok := strings.CutSuffix(r.dir, "/..."); ok {
				if dir == base || strings.HasPrefix(dir, base+"/") {
					rule = i
					break
				}
			} else if dir == r.dir {
				rule = i
				break
			}
		}
		for imp := range imps {
			// No shipped package imports a test environment.
			if allowedImport(imp, testEnvironments) && !allowedImport(dir, testEnvironments) {
				t.Errorf("%s imports %s: test environments are for tests only", dir, imp)
			}
			if rule < 0 || imp == dir || strings.HasPrefix(imp, dir+"/internal/") {
				continue
			}
			if !allowedImport(imp, importRules[rule].allowed) {
				t.Errorf("%s imports %s, against the layout (rule %q allows %v)", dir, imp, importRules[rule].dir, importRules[rule].allowed)
			}
		}
	}
}

func allowedImport(imp string, allowed []string) bool {
	for _, a := range allowed {
		if imp == a || (strings.HasSuffix(a, "/") && strings.HasPrefix(imp, a)) {
			return true
		}
	}
	return false
}

// TestImportRulesCatchViolations shows that the check can fail: a leaf
// importing the engine, and the engine importing cluster, are refused.
func TestImportRulesCatchViolations(t *testing.T) {
	rules := map[string][]string{}
	for _, r := range importRules {
		rules[r.dir] = r.allowed
	}
	assert.False(t, allowedImport("remediation", rules["mailbox/..."]), "a leaf must not import the engine")
	assert.False(t, allowedImport("mailbox", rules["calendar/..."]), "calendar is a leaf")
	assert.False(t, allowedImport("cluster", rules["remediation"]), "only automation imports cluster")
	assert.False(t, allowedImport("remediation/journal", rules["remediation"]), "remediation must not import its sub-packages")
	assert.False(t, allowedImport("cluster", rules["remediation/rules"]), "only automation imports cluster")
	assert.False(t, allowedImport("mailbox", rules["remediation/journal/pgjournal"]), "the PostgreSQL journal stores records only")
	assert.True(t, allowedImport("internal/urlcanon", rules["cluster/..."]))
	assert.False(t, allowedImport("cluster", rules["hunt"]), "only automation imports cluster")
	assert.False(t, allowedImport("remediation", rules["hunt/sqlstore"]), "a store of the index does not know the engine")
	assert.False(t, allowedImport("hunt", rules["api"]), "the API reads the index through api.Index only")
	assert.True(t, allowedImport("internal/testenv/dovecot", testEnvironments))
	assert.False(t, allowedImport("internal/urlcanon", testEnvironments))
}
