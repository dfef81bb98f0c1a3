package crawl

import (
	"bufio"
	"io"
	"sync"
)

// fetchLog writes the crawl log (Options.Log): one JSON line per fetch,
// buffered, flushed at checkpoints and at the end. A nil *fetchLog
// writes nothing. Its methods are safe for concurrent use.
type fetchLog struct {
	mu sync.Mutex
	w  *bufio.Writer
}

// newFetchLog returns a log writing to w, or nil if w is nil.
func newFetchLog(w io.Writer) *fetchLog {
	if w == nil {
		return nil
	}
	return &fetchLog{w: bufio.NewWriterSize(w, 64<<10)}
}

// write adds f's line.
func (l *fetchLog) write(f Fetch) {
	if l == nil {
		return
	}
	line, err := jsonLine(f)
	if err != nil {
		return
	}
	l.mu.Lock()
	l.w.Write(line)
	l.mu.Unlock()
}

// flush writes out the buffered lines.
func (l *fetchLog) flush() {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.w.Flush()
	l.mu.Unlock()
}
