package servertest_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
)

// TestTreeCPU: the CPU time of a child that spins is counted while it
// runs, and stays counted once it has ended and been waited for.
func TestTreeCPU(t *testing.T) {
	before, err := servertest.TreeCPU(os.Getpid())
	require.NoError(t, err)
	cmd := exec.Command("sh", "-c", `i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done`)
	require.NoError(t, cmd.Run())
	child := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	require.Greater(t, child, 20*time.Millisecond, "the child spun")
	after, err := servertest.TreeCPU(os.Getpid())
	require.NoError(t, err)
	require.GreaterOrEqual(t, after-before, child-10*time.Millisecond, "the ended child counted")
}
