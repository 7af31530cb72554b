package api_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestOpenAPIDocument runs the document's check with kin-openapi (module
// api/internal/openapicheck, its own module because kin-openapi needs a
// newer go line than eradicate's): the document is valid OpenAPI 3, names
// exactly the handler's routes, and every example request is valid and
// answered as the document says.
func TestOpenAPIDocument(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	cmd := exec.CommandContext(t.Context(), gobin, "test", "-count=1", "./...")
	cmd.Dir = filepath.Join("internal", "openapicheck")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the OpenAPI check failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
