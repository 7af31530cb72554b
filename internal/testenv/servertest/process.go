package servertest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// StartAttempts calls start up to three times, and reset after each
// failed attempt: a port [FreePort] returned can be taken by another
// process before the server binds it. It returns the last attempt's
// error, nil once one succeeds.
func StartAttempts(start func() error, reset func()) error {
	var err error
	for range 3 {
		if err = start(); err == nil {
			return nil
		}
		reset()
	}
	return err
}

// PollReady polls ready every 50 ms until it reports true. It fails when
// exited is closed first (the server's process ended) or after 30
// seconds; what names the server in the error.
func PollReady(exited <-chan struct{}, what string, ready func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ready() {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before it was ready", what)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s was not ready within 30s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitReady is [PollReady] for a server started once: it fails t, naming
// what and adding log()'s text, when the server's process exits first
// (exited is closed) or the time is up.
func WaitReady(t testing.TB, what string, exited <-chan struct{}, ready func() bool, log func() string) {
	t.Helper()
	if err := PollReady(exited, what, ready); err != nil {
		t.Fatalf("%v: %s", err, log())
	}
}

// Listening reports whether something accepts TCP connections at addr.
func Listening(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// Greets reports whether a server at addr sends a greeting line that
// starts with prefix ("* OK" for IMAP, "220 " for SMTP and LMTP).
func Greets(addr, prefix string) bool {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, prefix)
}

// Interrupt stops the process of cmd: it sends an interrupt, waits up to
// grace for exited to be closed (by the goroutine that waits for cmd),
// then kills the process and waits for exited. A cmd that never started
// is left alone.
func Interrupt(cmd *exec.Cmd, exited <-chan struct{}, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Run is one run of a server's process, from [Launch] to its exit. A
// server that starts again (another attempt of [StartAttempts], a
// restart) launches a new Run, so nothing of the last one needs resetting.
type Run struct {
	cmd    *exec.Cmd
	exited chan struct{}
	once   sync.Once
}

// Launch starts cmd and returns its run, whose Exited channel is closed
// when the process ends.
func Launch(cmd *exec.Cmd) (*Run, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &Run{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(r.exited)
	}()
	return r, nil
}

// Exited is closed when the process has ended.
func (r *Run) Exited() <-chan struct{} { return r.exited }

// Pid is the process's id.
func (r *Run) Pid() int { return r.cmd.Process.Pid }

// Stop calls stop, which must end the process and wait for exited, at
// most once per run. A nil Run (a server that never started) is left
// alone.
func (r *Run) Stop(stop func(cmd *exec.Cmd, exited <-chan struct{})) {
	if r == nil {
		return
	}
	r.once.Do(func() { stop(r.cmd, r.exited) })
}

// Interrupt stops the run with [Interrupt] and the given grace.
func (r *Run) Interrupt(grace time.Duration) {
	r.Stop(func(cmd *exec.Cmd, exited <-chan struct{}) { Interrupt(cmd, exited, grace) })
}
