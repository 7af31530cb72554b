package servertest

import (
	"errors"
	"net"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartAttempts(t *testing.T) {
	calls, resets := 0, 0
	err := StartAttempts(func() error {
		calls++
		if calls < 2 {
			return errors.New("port taken")
		}
		return nil
	}, func() { resets++ })
	require.NoError(t, err)
	assert.Equal(t, 2, calls)
	assert.Equal(t, 1, resets)

	calls, resets = 0, 0
	err = StartAttempts(func() error { calls++; return errors.New("no") }, func() { resets++ })
	require.EqualError(t, err, "no")
	assert.Equal(t, 3, calls)
	assert.Equal(t, 3, resets)
}

func TestPollReady(t *testing.T) {
	n := 0
	require.NoError(t, PollReady(make(chan struct{}), "server", func() bool { n++; return n == 3 }))
	assert.Equal(t, 3, n)

	exited := make(chan struct{})
	close(exited)
	require.EqualError(t, PollReady(exited, "server", func() bool { return false }), "server exited before it was ready")
}

func TestGreetsAndListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	greeting := make(chan string, 2)
	greeting <- "* OK ready\r\n"
	greeting <- "220 smtp ready\r\n"
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case g := <-greeting:
				_, _ = c.Write([]byte(g))
			default:
			}
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	assert.True(t, Greets(addr, "* OK"))
	assert.False(t, Greets(addr, "* OK"), "not an IMAP greeting")
	assert.True(t, Listening(addr))
	ln.Close()
	assert.False(t, Listening(addr))
}

func TestInterrupt(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command")
	}
	cmd := exec.Command(sleep, "60")
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	Interrupt(cmd, exited, time.Minute)
	select {
	case <-exited:
	default:
		t.Fatal("Interrupt returned before the process exited")
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	assert.Equal(t, syscall.SIGINT, ws.Signal(), "ended by the interrupt, not killed")
	Interrupt(&exec.Cmd{}, nil, time.Second) // never started: left alone
}
