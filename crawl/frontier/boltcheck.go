package frontier

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Errors of OpenBolt.
var (
	// ErrLocked is a bbolt file another process has open.
	ErrLocked = errors.New("frontier: the state file is in use by another process")
	// ErrDamaged is what every *DamagedError is.
	ErrDamaged = errors.New("frontier: the state file is damaged")
	// ErrOldFormat is what every *OldFormatError is.
	ErrOldFormat = errors.New("frontier: the state file is of an earlier format")
)

// DamagedError is a state file that cannot be trusted. The WARC files are
// the truth: a state moved away is rebuilt from them by the next run.
type DamagedError struct {
	Path   string
	Reason string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("crawl state %s is damaged (%s): move it away (mv %s %s.damaged) and run again; the next run rebuilds it from the WARC files, which are not affected",
		e.Path, e.Reason, e.Path, e.Path)
}

func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

// OldFormatError is a state file written by an amber from before the
// frontier (buckets "fresh" and "claimed"). It is not converted: the
// digest index, the part that matters, is rebuilt from the WARC files.
type OldFormatError struct {
	Path string
}

func (e *OldFormatError) Error() string {
	return fmt.Sprintf("crawl state %s was written by an earlier version of amber and cannot be read: move it away (mv %s %s.old) and run again; the next run rebuilds it from the WARC files (unchanged payloads are still stored as revisits; the run log starts afresh)",
		e.Path, e.Path, e.Path)
}

func (e *OldFormatError) Is(target error) bool { return target == ErrOldFormat }

// legacyBuckets are buckets only the state of earlier versions has.
var legacyBuckets = [][]byte{[]byte("fresh"), []byte("fresh-r"), []byte("claimed")}

// damaged makes a one-line DamagedError of an error or a recovered panic
// (bbolt asserts with panics, and a page outside the file is a fault).
func damaged(path string, reason any) error {
	var msg string
	switch r := reason.(type) {
	case *DamagedError:
		return r
	case error:
		msg = r.Error()
	default:
		msg = fmt.Sprint(r)
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return &DamagedError{Path: path, Reason: msg}
}

func closeQuietly(db *bolt.DB) {
	defer func() { recover() }()
	db.Close()
}

// checkBoltFile opens the file read-only, without loading its free list,
// and proves it sound (checkBolt) and of this format. A file refused is
// closed again, its mapping and lock let go of, even when bbolt panicked
// on it. Opening a damaged file for writing could panic while bbolt holds
// it (and its lock) mapped, beyond any way to let go of it: hence first
// read-only.
func checkBoltFile(path string) (err error) {
	var db *bolt.DB
	var file *os.File // bbolt's: closed by hand if bolt.Open itself panics
	release := func() {
		if db != nil {
			closeQuietly(db)
		} else if file != nil {
			file.Close()
		}
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			release()
			err = damaged(path, p)
		}
	}()
	db, err = bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second, ReadOnly: true,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		}})
	if errors.Is(err, berrors.ErrTimeout) {
		return ErrLocked
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("crawl state %s: %w", path, err)
	}
	if err != nil {
		// invalid database, version mismatch, checksum error, file size
		// too small: what bbolt says of a file it cannot open.
		return damaged(path, err)
	}
	if err := checkBolt(db, path); err != nil {
		release()
		return damaged(path, err)
	}
	old := false
	db.View(func(tx *bolt.Tx) error {
		for _, b := range legacyBuckets {
			old = old || tx.Bucket(b) != nil
		}
		return nil
	})
	if err := db.Close(); err != nil {
		return err
	}
	if old {
		return &OldFormatError{Path: path}
	}
	return nil
}

// checkBolt proves a bbolt file sound before it is used. It runs in the
// caller's goroutine with faults turned into panics (the caller recovers),
// so that a page number pointing outside the file is an error, not a
// crash: first the size the meta page claims against the file's, then a
// walk of every key and value of every bucket (what amber reads), then
// bbolt's own check, which also proves the free list (what amber writes
// over) and which, once the walk has passed, reads only pages the walk
// touched. On a state of 200,000 URLs and as many digests (a 113 MB file)
// this costs 0.06 s (0.16 s on a loaded machine).
func checkBolt(db *bolt.DB, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return db.View(func(tx *bolt.Tx) error {
		if tx.Size() > fi.Size() {
			return fmt.Errorf("truncated: %d bytes, its meta page says %d", fi.Size(), tx.Size())
		}
		var sink byte
		var walk func(b *bolt.Bucket) error
		walk = func(b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if len(k) > 0 {
					sink ^= k[len(k)-1]
				}
				if v == nil { // a nested bucket (pages per worker)
					if nb := b.Bucket(k); nb != nil {
						return walk(nb)
					}
				}
				if len(v) > 0 {
					sink ^= v[len(v)-1]
				}
				return nil
			})
		}
		err := tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return walk(b) })
		if err != nil {
			return err
		}
		_ = sink
		var first error
		n := 0
		for err := range tx.Check() {
			if first == nil {
				first = err
			}
			n++
		}
		if n > 1 {
			return fmt.Errorf("%w (and %d more problems)", first, n-1)
		}
		return first
	})
}

// guard turns a panic in a method (bbolt's assertions, a fault on a page
// the file lost after it was opened) into a DamagedError. Deferred as
// s.guard(&err, debug.SetPanicOnFault(true)).
func (s *Bolt) guard(err *error, onFault bool) {
	defer debug.SetPanicOnFault(onFault)
	if p := recover(); p != nil {
		*err = damaged(s.path, p)
	}
}
