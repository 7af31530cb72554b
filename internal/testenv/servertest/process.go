package servertest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
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

// WaitReady polls ready every 50 ms until it reports true. It fails when
// exited is closed first (the server's process ended) or after 30
// seconds; what names the server in the error.
func WaitReady(exited <-chan struct{}, what string, ready func() bool) error {
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

// Listens reports whether something accepts TCP connections at addr.
func Listens(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// GreetsIMAP reports whether an IMAP server at addr sends its "* OK"
// greeting.
func GreetsIMAP(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "* OK")
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
