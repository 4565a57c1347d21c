//go:build fault

package fault

import (
	"os"
	"os/exec"
	"testing"
)

// restartCommand returns a function restarting the broker with
// KAFKA_RESTART_CMD, or skips the test when there is none.
func restartCommand(t *testing.T) func() ([]byte, error) {
	t.Helper()
	c := os.Getenv("KAFKA_RESTART_CMD")
	if c == "" {
		t.Skip("KAFKA_RESTART_CMD is not set: the broker is not ours to restart")
	}
	return func() ([]byte, error) { return exec.Command("bash", "-c", c).CombinedOutput() }
}
