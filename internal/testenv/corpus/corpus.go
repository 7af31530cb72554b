package corpus

import (
	"os"
	"path/filepath"
	"testing"
)

// Env is the environment variable naming the corpus folder.
const Env = "ERADICATE_CORPUS"

// Dir returns the corpus folder, or skips (fails under CI=true) t when it
// is not available.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(Env)
	if dir == "" {
		missing(t, Env+" is not set; point it at the shared corpora folder (e.g. ../shared/corpora) to run corpus tests")
		return ""
	}
	if fi, err := os.Stat(filepath.Join(dir, "MANIFEST.jsonl")); err != nil || fi.IsDir() {
		missing(t, Env+"="+dir+" has no MANIFEST.jsonl")
		return ""
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	return abs
}

// Path returns the path of a file or folder inside the corpus, skipping t
// as [Dir] does.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Dir(t)}, elem...)...)
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("corpus required under CI: " + msg)
	}
	t.Skip(msg)
}
