// Package testredis starts a real redis-server for tests, on a free port
// of 127.0.0.1 with its data in a directory of the test's, and stops it
// (by its PID) when the test ends. Without redis-server on PATH the test
// is skipped, or fails when AMBER_REDIS_REQUIRED=1 (as .ci/run sets it).
package testredis

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server a test started.
type Server struct {
	Port int
	Dir  string // its data and log
	args []string
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start starts a redis-server with append-only persistence and the extra
// arguments given (e.g. "--requirepass", "s3cret"), and waits until it
// answers.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("AMBER_REDIS_REQUIRED") == "1" {
			t.Fatalf("redis-server not found, and AMBER_REDIS_REQUIRED=1: %v", err)
		}
		t.Skipf("redis-server not found (install the Debian package redis-server): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Port: ln.Addr().(*net.TCPAddr).Port, Dir: t.TempDir()}
	ln.Close()
	s.args = append([]string{bin, "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "yes", "--dir", s.Dir, "--logfile", filepath.Join(s.Dir, "redis.log")}, extra...)
	s.Restart(t)
	t.Cleanup(s.Stop)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// URL is the redis:// URL of its database 0, without the password.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Client returns a client of the server, closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DisableIdentity: true, Password: s.password()})
	t.Cleanup(func() { c.Close() })
	return c
}

// Restart starts the server (again, after Stop, on the same port and
// data) and waits until it answers.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	s.done = done
	go func(cmd *exec.Cmd) { cmd.Wait(); close(done) }(s.cmd)
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DisableIdentity: true, Password: s.password()})
	defer c.Close()
	for deadline := time.Now().Add(30 * time.Second); c.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("redis-server exited at start:\n%s", s.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not answer on port %d within 30 s:\n%s", s.Port, s.Log())
		}
	}
}

// Stop stops the server (by its PID, SIGTERM, then SIGKILL after 30 s) and
// waits for it; stopping a stopped server does nothing.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Kill kills the server (by its PID, SIGKILL: no shutdown, no last
// fsync) and waits for it; killing a stopped server does nothing.
func (s *Server) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}

// Log is the server's log file.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	return string(b)
}

func (s *Server) password() string {
	for i, a := range s.args {
		if a == "--requirepass" && i+1 < len(s.args) {
			return s.args[i+1]
		}
	}
	return ""
}
