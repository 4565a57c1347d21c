package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// subprocess is `sessiond run` in its own process.
type subprocess struct {
	cmd     *exec.Cmd
	addr    string
	logs    *logSink
	done    chan struct{}
	waitErr error
}

// buildSessiond builds cmd/sessiond into dir, in its own module (the
// repository's root, where bench/go.mod's replace points): with the
// product's go.mod, not the versions this module's plotting dependencies
// might select, so that the binary measured is the one shipped.
func buildSessiond(ctx context.Context, dir string) (string, error) {
	root, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/sessiond/sessiond").Output()
	if err != nil {
		return "", fmt.Errorf("find the sessiond module (run from the repository, or pass --sessiond-bin): %w", err)
	}
	bin := filepath.Join(dir, "sessiond")
	cmd := exec.CommandContext(ctx, "go", "build", "-C", strings.TrimSpace(string(root)), "-o", bin, "./cmd/sessiond")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/sessiond (or pass --sessiond-bin): %w\n%s", err, out)
	}
	return bin, nil
}

// subprocessLauncher starts bin as `sessiond run`.
func subprocessLauncher(bin string) func(a runArgs) (instance, error) {
	return func(a runArgs) (instance, error) {
		s := &subprocess{addr: a.httpAddr, logs: &logSink{}, done: make(chan struct{})}
		s.cmd = exec.Command(bin, a.flags()...)
		s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
		s.cmd.Env = os.Environ()
		s.cmd.SysProcAttr = childAttr()
		if err := s.cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", bin, err)
		}
		go func() {
			s.waitErr = s.cmd.Wait()
			close(s.done)
		}()
		return s, nil
	}
}

func (s *subprocess) Addr() string            { return s.addr }
func (s *subprocess) PID() int                { return s.cmd.Process.Pid }
func (s *subprocess) Logs() *logSink          { return s.logs }
func (s *subprocess) Exited() <-chan struct{} { return s.done }

func (s *subprocess) Err() error {
	if s.waitErr == nil {
		return errors.New("exit status 0")
	}
	return s.waitErr
}

// Stop sends SIGTERM and waits; after timeout it kills the process.
func (s *subprocess) Stop(timeout time.Duration) error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal sessiond: %w", err)
	}
	select {
	case <-s.done:
		return s.waitErr
	case <-time.After(timeout):
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("sessiond did not stop within %v after SIGTERM: killed", timeout)
	}
}
