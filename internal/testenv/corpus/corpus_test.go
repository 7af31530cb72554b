package corpus

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records Skip and Fatal and then ends its
// goroutine as the real ones do, without ending the test, so that both
// outcomes of Dir can be checked.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skip(args ...any) {
	r.skipped = args[0].(string)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed = args[0].(string)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, _ ...any) {
	r.failed = format
	runtime.Goexit()
}

// dir runs Dir in its own goroutine, which Skip and Fatal end.
func (r *recorder) dir() string {
	var got string
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = Dir(r)
	}()
	<-done
	return got
}

func TestDir(t *testing.T) {
	withManifest := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(withManifest, "MANIFEST.jsonl"), []byte("{}\n"), 0o600))
	tests := []struct {
		name    string
		dir, ci string
		want    string
		skip    bool
		fail    bool
	}{
		{name: "unset skips", dir: "", skip: true},
		{name: "unset fails under CI", dir: "", ci: "true", fail: true},
		{name: "no manifest skips", dir: t.TempDir(), skip: true},
		{name: "no manifest fails under CI", dir: t.TempDir(), ci: "true", fail: true},
		{name: "found", dir: withManifest, want: withManifest},
		{name: "found under CI", dir: withManifest, ci: "true", want: withManifest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(Env, tc.dir)
			t.Setenv("CI", tc.ci)
			r := &recorder{TB: t}
			got := r.dir()
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.skip, r.skipped != "", "skipped: %q", r.skipped)
			assert.Equal(t, tc.fail, r.failed != "", "failed: %q", r.failed)
		})
	}
}

func TestPath(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "MANIFEST.jsonl"), []byte("{}\n"), 0o600))
	t.Setenv(Env, dir)
	assert.Equal(t, filepath.Join(dir, "a", "b.eml"), Path(t, "a", "b.eml"))
}

func TestEachMessage(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "a", "sub"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "b"), 0o755))
	for name, body := range map[string]string{"a/2.eml": "two", "a/sub/1.eml": "one", "a/notes.txt": "no", "b/3.eml": "three"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	var got []string
	EachMessage(t, dir, []string{"b", "a"}, func(path string, raw []byte) {
		rel, err := filepath.Rel(dir, path)
		require.NoError(t, err)
		got = append(got, filepath.ToSlash(rel)+"="+string(raw))
	})
	assert.Equal(t, []string{"b/3.eml=three", "a/2.eml=two", "a/sub/1.eml=one"}, got)

	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		EachMessage(r, dir, []string{"missing"}, func(string, []byte) { t.Error("called") })
	}()
	<-done
	assert.NotEmpty(t, r.failed, "a folder that cannot be read fails the test")
}
