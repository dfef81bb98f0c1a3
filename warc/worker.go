package warc

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxWorkerIDLen bounds a worker id, so that a WARC file name stays well
// under the 255 bytes file systems allow.
const MaxWorkerIDLen = 64

// WorkerIDError is a worker id that cannot go into a WARC file name.
type WorkerIDError struct {
	ID     string
	Reason string
}

func (e *WorkerIDError) Error() string {
	return fmt.Sprintf("warc: worker id %q: %s", e.ID, e.Reason)
}

// CheckWorkerID reports whether id can name a worker in WARC file names:
// 1 to MaxWorkerIDLen letters, digits, '.', '_' and '-', not starting with
// '.' or '-'.
func CheckWorkerID(id string) error {
	switch {
	case id == "":
		return &WorkerIDError{ID: id, Reason: "empty"}
	case len(id) > MaxWorkerIDLen:
		return &WorkerIDError{ID: id, Reason: fmt.Sprintf("longer than %d characters", MaxWorkerIDLen)}
	case id[0] == '.' || id[0] == '-':
		return &WorkerIDError{ID: id, Reason: "starts with '" + id[:1] + "'"}
	}
	if i := strings.IndexFunc(id, func(r rune) bool { return !workerIDRune(r) }); i >= 0 {
		return &WorkerIDError{ID: id, Reason: fmt.Sprintf("has %q: only letters, digits, '.', '_' and '-' are allowed", []rune(id[i:])[0])}
	}
	return nil
}

func workerIDRune(r rune) bool {
	return r == '-' || r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// DefaultWorkerID is the worker id of a process on host with PID pid:
// HOST-PID, the host name sanitised (every other character becomes '_')
// and shortened so that the id passes CheckWorkerID.
func DefaultWorkerID(host string, pid int) string {
	suffix := "-" + strconv.Itoa(pid)
	h := sanitizeHost(host)
	h = strings.TrimLeft(h, ".-")
	if h == "" {
		h = "localhost"
	}
	if n := MaxWorkerIDLen - len(suffix); len(h) > n {
		h = h[:n]
	}
	return h + suffix
}
