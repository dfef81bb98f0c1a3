package crawl

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// BoltState is the embedded State: one bbolt file, fsynced on every
// commit, so a crash or a power loss loses no acknowledged change.
type BoltState struct {
	db      *bolt.DB
	path    string
	created bool // the file did not exist before OpenBoltState
	crawl   uint64
	recrawl bool

	digestMu     sync.RWMutex
	digestFilter *bloom.BloomFilter // nil until Begin: every look-up reads the file
}

var (
	bMeta    = []byte("meta")
	bURLs    = []byte("urls")    // key → urlRecord: the seen set, with each URL's outcome
	bFresh   = []byte("fresh")   // sequence → key NUL data: the queue, in order
	bFreshR  = []byte("fresh-r") // the same for requisites, claimed first
	bClaimed = []byte("claimed") // key → data: the URLs being fetched
	bDigests = []byte("digests") // payload digest → DigestRef
	bPages   = []byte("pages")   // sequence → Page, not yet in pages.jsonl
	bRuns    = []byte("runs")    // sequence → RunInfo
	bRobots  = []byte("robots")  // origin → RobotsTxt

	kCrawl   = []byte("crawl")
	kRecrawl = []byte("recrawl")
)

// urlRecord is a URL's state in the crawl that last saw it: FRESH (queued
// or being fetched: the fresh and claimed buckets tell which), DONE or
// FAILED. It is kept small, since every queued link writes one.
type urlRecord struct {
	State  byte   `json:"s"`
	Crawl  uint64 `json:"c"`
	Reason string `json:"r,omitempty"`
}

func queueValue(key string, data []byte) []byte {
	v := make([]byte, 0, len(key)+1+len(data))
	v = append(v, key...)
	v = append(v, 0)
	return append(v, data...)
}

func splitQueueValue(v []byte) (key string, data []byte) {
	k, d, _ := bytes.Cut(v, []byte{0})
	return string(k), append([]byte(nil), d...)
}

// ErrLocked is returned when another process has the state file open.
var ErrLocked = errors.New("crawl: state file is in use by another process")

// OpenBoltState opens (creating it if needed) the state file at path. A
// file that is not a sound bbolt database (truncated, bytes flipped, not
// bbolt at all) is refused with a *DamagedStateError: before it is used,
// its size is checked against its meta page, every page of every bucket is
// walked and bbolt's consistency check (free list, page references) runs.
// On a state of 200,000 URLs and as many digests (a 113 MB file) this
// costs 0.06 s (0.16 s on a loaded machine).
func OpenBoltState(path string) (_ *BoltState, err error) {
	// A file of 0 bytes is new too: bbolt writes its first pages.
	fi, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist) || statErr == nil && fi.Size() == 0
	if !created {
		// Proved sound read-only first: bbolt opening a damaged file for
		// writing may panic while it holds the file (and its lock) mapped,
		// beyond any way to let go of it.
		if err := checkBoltFile(path); err != nil {
			return nil, err
		}
	}
	var db *bolt.DB
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			if db != nil {
				closeQuietly(db)
			}
			err = damaged(path, p)
		}
	}()
	db, err = bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, ErrLocked
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("crawl: state %s: %w", path, err)
	}
	if err != nil {
		return nil, damaged(path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bMeta, bURLs, bFresh, bFreshR, bClaimed, bDigests, bPages, bRuns, bRobots} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		closeQuietly(db)
		if errors.Is(err, berrors.ErrIncompatibleValue) {
			return nil, damaged(path, err)
		}
		return nil, fmt.Errorf("crawl: state %s: %w", path, err)
	}
	// Adds from concurrent workers share one commit (and one fsync) when
	// they come within 2 ms of each other.
	db.MaxBatchDelay = 2 * time.Millisecond
	return &BoltState{db: db, path: path, created: created}, nil
}

// checkBoltFile opens the state file read-only, without loading its free
// list, and proves it sound (checkBolt). A file refused is closed again,
// its mapping and lock let go of, even when bbolt panicked on it.
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
		return fmt.Errorf("crawl: state %s: %w", path, err)
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
	return db.Close()
}

// Created reports whether the state file was created when it was opened:
// a collection whose state is new has no record of its earlier runs' digests.
func (s *BoltState) Created() bool { return s.created }

// ErrStateDamaged is what every *DamagedStateError is (errors.Is).
var ErrStateDamaged = errors.New("crawl: state is damaged")

// DamagedStateError is a state file that cannot be trusted. The WARC files
// are the truth: a state moved away is rebuilt from them by the next run.
type DamagedStateError struct {
	Path   string
	Reason string
}

func (e *DamagedStateError) Error() string {
	return fmt.Sprintf("crawl state %s is damaged (%s): move it away (mv %s %s.damaged) and run again; the next run rebuilds it from the WARC files, which are not affected",
		e.Path, e.Reason, e.Path, e.Path)
}

func (e *DamagedStateError) Is(target error) bool { return target == ErrStateDamaged }

// damaged makes a one-line DamagedStateError of an error or a recovered
// panic (bbolt asserts with panics, and a page outside the file is a fault).
func damaged(path string, reason any) error {
	var msg string
	switch r := reason.(type) {
	case *DamagedStateError:
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
	return &DamagedStateError{Path: path, Reason: msg}
}

func closeQuietly(db *bolt.DB) {
	defer func() { recover() }()
	db.Close()
}

// checkBolt proves a bbolt file sound before it is used. It runs in the
// caller's goroutine with faults turned into panics (the caller recovers),
// so that a page number pointing outside the file is an error, not a
// crash: first the size the meta page claims against the file's, then a
// walk of every key and value of every bucket (what amber reads), then
// bbolt's own check, which also proves the free list (what amber writes
// over) and which, once the walk has passed, reads only pages the walk
// touched.
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
		err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if len(k) > 0 {
					sink ^= k[len(k)-1]
				}
				if len(v) > 0 {
					sink ^= v[len(v)-1]
				}
				return nil
			})
		})
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

// guard turns a panic in a state method (bbolt's assertions, a fault on a
// page the file lost after it was opened) into a DamagedStateError.
// Deferred as s.guard(&err, debug.SetPanicOnFault(true)).
func (s *BoltState) guard(err *error, onFault bool) {
	defer debug.SetPanicOnFault(onFault)
	if p := recover(); p != nil {
		*err = damaged(s.path, p)
	}
}

func u64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func b64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// Begin implements State.
func (s *BoltState) Begin(recrawl bool) (_ CrawlInfo, err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	var info CrawlInfo
	err = s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		info.Crawl = u64(meta.Get(kCrawl))
		fresh, claimed := tx.Bucket(bFresh), tx.Bucket(bClaimed)
		unfinished := info.Crawl > 0 && (fresh.Stats().KeyN > 0 || tx.Bucket(bFreshR).Stats().KeyN > 0 || claimed.Stats().KeyN > 0)
		if unfinished {
			info.Resumed = true
			recrawl = meta.Get(kRecrawl) != nil // the crawl keeps its mode
			// CLAIMED URLs were being fetched when the last run stopped:
			// they go back to the end of the queue.
			type kv struct{ k, v []byte }
			var back []kv
			claimed.ForEach(func(k, v []byte) error {
				back = append(back, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
				return nil
			})
			for _, e := range back {
				seq, _ := fresh.NextSequence()
				if err := fresh.Put(b64(seq), queueValue(string(e.k), e.v)); err != nil {
					return err
				}
				if err := claimed.Delete(e.k); err != nil {
					return err
				}
			}
			info.Requeued = len(back)
		} else {
			info.Crawl++
			if err := meta.Put(kCrawl, b64(info.Crawl)); err != nil {
				return err
			}
			if recrawl {
				if err := meta.Put(kRecrawl, []byte{1}); err != nil {
					return err
				}
			} else if err := meta.Delete(kRecrawl); err != nil {
				return err
			}
		}
		return nil
	})
	s.crawl, s.recrawl = info.Crawl, recrawl
	if err != nil {
		return info, err
	}
	return info, s.loadDigestFilter()
}

// loadDigestFilter builds the Bloom filter of the digests the collection
// holds. Most payloads a crawl meets are new; the filter answers for them
// without a read transaction.
func (s *BoltState) loadDigestFilter() error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bDigests)
		n := uint(b.Stats().KeyN)
		f := bloom.NewWithEstimates(max(2*n, 1<<20), 0.01)
		err := b.ForEach(func(k, _ []byte) error {
			f.Add(k)
			return nil
		})
		s.digestMu.Lock()
		s.digestFilter = f
		s.digestMu.Unlock()
		return err
	})
}

// mayHaveDigest reports false when digest d is certainly not in the
// state.
func (s *BoltState) mayHaveDigest(d string) bool {
	s.digestMu.RLock()
	defer s.digestMu.RUnlock()
	return s.digestFilter == nil || s.digestFilter.TestString(d)
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

// isNew reports whether a URL with record raw (nil: never seen) is new to
// the current crawl.
func (s *BoltState) isNew(raw []byte) bool {
	if raw == nil {
		return true
	}
	var rec urlRecord
	if decodeURLRecord(raw, &rec) != nil {
		return true
	}
	if rec.Crawl == s.crawl {
		return false
	}
	// Seen in an earlier crawl: fetched again when recrawling; a URL that
	// failed then is tried again in any new crawl.
	return s.recrawl || rec.State == stateFailed
}

// admits reports whether entry e is queued: its key is new to the crawl,
// or e is a requisite whose URL is only queued as a page (not yet claimed)
// or was skipped as a page (robots.txt): a browser loads it all the same.
func (s *BoltState) admits(urls, claimed *bolt.Bucket, e Entry) bool {
	k := []byte(e.Key)
	raw := urls.Get(k)
	if s.isNew(raw) {
		return true
	}
	if !e.Requisite {
		return false
	}
	var rec urlRecord
	if decodeURLRecord(raw, &rec) != nil {
		return false
	}
	return requeuedAsRequisite(rec.State, rec.Reason) && claimed.Get(k) == nil
}

// Add implements State. A read-only pass filters out known keys first, so
// a page whose links are all known costs no write; the writes of
// concurrent Adds are batched into one transaction.
func (s *BoltState) Add(entries []Entry) (_ int, err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	var fresh []Entry
	err = s.db.View(func(tx *bolt.Tx) error {
		urls, claimed := tx.Bucket(bURLs), tx.Bucket(bClaimed)
		for _, e := range entries {
			if s.admits(urls, claimed, e) {
				fresh = append(fresh, e)
			}
		}
		return nil
	})
	if err != nil || len(fresh) == 0 {
		return 0, err
	}
	n := 0
	err = s.db.Batch(func(tx *bolt.Tx) (err error) {
		// A batch may run on another goroutine, where bbolt would turn a
		// panic into an error of its own.
		defer s.guard(&err, debug.SetPanicOnFault(true))
		n = 0
		urls, pq, rq := tx.Bucket(bURLs), tx.Bucket(bFresh), tx.Bucket(bFreshR)
		for _, e := range fresh {
			k := []byte(e.Key)
			q := pq
			if e.Requisite {
				q = rq
			}
			if !s.admits(urls, tx.Bucket(bClaimed), e) {
				continue // queued meanwhile, by this batch or another
			}
			rec := urlRecord{State: stateFresh, Crawl: s.crawl}
			if !e.Requisite {
				rec.Reason = queuedAsPage
			}
			if err := urls.Put(k, rec.encode()); err != nil {
				return err
			}
			seq, _ := q.NextSequence()
			if err := q.Put(b64(seq), queueValue(e.Key, e.Data)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Claim implements State. The URL records are not rewritten: a claimed URL
// is one in the claimed bucket.
func (s *BoltState) Claim(max int) (_ []Entry, err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	var empty bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bFreshR).Cursor().First()
		p, _ := tx.Bucket(bFresh).Cursor().First()
		empty = k == nil && p == nil
		return nil
	}); err != nil || empty {
		return nil, err // no write transaction (and fsync) for nothing
	}
	var out []Entry
	err = s.db.Update(func(tx *bolt.Tx) error {
		out = out[:0]
		urls, claimed := tx.Bucket(bURLs), tx.Bucket(bClaimed)
		// Requisites first, then pages, each queue in order.
		for _, q := range []struct {
			b         *bolt.Bucket
			requisite bool
		}{{tx.Bucket(bFreshR), true}, {tx.Bucket(bFresh), false}} {
			c := q.b.Cursor()
			for k, v := c.First(); k != nil && len(out) < max; k, v = c.First() {
				key, data := splitQueueValue(v)
				if err := c.Delete(); err != nil {
					return err
				}
				var rec urlRecord
				if decodeURLRecord(urls.Get([]byte(key)), &rec) != nil || rec.State != stateFresh {
					continue // recovered as DONE meanwhile
				}
				if claimed.Get([]byte(key)) != nil {
					continue // queued as a page, then as a requisite: claimed once
				}
				if err := claimed.Put([]byte(key), data); err != nil {
					return err
				}
				out = append(out, Entry{Key: key, Data: data, Requisite: q.requisite})
			}
		}
		return nil
	})
	return out, err
}

// Finish implements State.
func (s *BoltState) Finish(outcomes []Outcome, digests []DigestRef) (err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	if len(outcomes) == 0 && len(digests) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return s.settle(tx, outcomes, digests, false)
	})
}

// Recover implements State.
func (s *BoltState) Recover(outcomes []Outcome, digests []DigestRef) (err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	return s.db.Update(func(tx *bolt.Tx) error {
		return s.settle(tx, outcomes, digests, true)
	})
}

// settle records outcomes and digests. In recovery, only URLs still FRESH
// (queued or claimed) change, and they keep the crawl they belong to.
func (s *BoltState) settle(tx *bolt.Tx, outcomes []Outcome, digests []DigestRef, recovering bool) error {
	urls, claimed, dig, pages := tx.Bucket(bURLs), tx.Bucket(bClaimed), tx.Bucket(bDigests), tx.Bucket(bPages)
	for _, o := range outcomes {
		k := []byte(o.Key)
		rec := urlRecord{State: stateDone, Crawl: s.crawl}
		if recovering {
			if decodeURLRecord(urls.Get(k), &rec) != nil || rec.State != stateFresh {
				continue
			}
			rec.State, rec.Reason = stateDone, ""
		} else if o.Failed != "" {
			rec.State, rec.Reason = stateFailed, o.Failed
		}
		if err := urls.Put(k, rec.encode()); err != nil {
			return err
		}
		if err := claimed.Delete(k); err != nil {
			return err
		}
		if o.Page != nil {
			seq, _ := pages.NextSequence()
			if err := putJSON(pages, b64(seq), o.Page); err != nil {
				return err
			}
		}
	}
	for _, d := range digests {
		if dig.Get([]byte(d.Digest)) != nil {
			continue // the first capture stays the one revisits refer to
		}
		if err := dig.Put([]byte(d.Digest), encodeDigestRef(d)); err != nil {
			return err
		}
	}
	// Added to the filter before the commit: a false positive costs a
	// look-up, a false negative would cost a revisit.
	s.digestMu.Lock()
	if s.digestFilter != nil {
		for _, d := range digests {
			s.digestFilter.AddString(d.Digest)
		}
	}
	s.digestMu.Unlock()
	return nil
}

// Robots implements State.
func (s *BoltState) Robots(origin string) (_ RobotsTxt, _ bool, err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	var r RobotsTxt
	var ok bool
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bRobots).Get([]byte(origin))
		if v == nil {
			return nil
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		ok = r.Crawl == s.crawl
		return nil
	})
	return r, ok, err
}

// PutRobots implements State.
func (s *BoltState) PutRobots(origin string, r RobotsTxt) (err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	r.Crawl = s.crawl
	return s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bRobots), []byte(origin), r)
	})
}

// LookupDigest implements State.
func (s *BoltState) LookupDigest(d string) (_ DigestRef, _ bool, err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	if !s.mayHaveDigest(d) {
		return DigestRef{}, false, nil
	}
	var ref DigestRef
	var ok bool
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bDigests).Get([]byte(d))
		if v == nil {
			return nil
		}
		ok = true
		return decodeDigestRef(d, v, &ref)
	})
	return ref, ok, err
}

// Counts implements State: the URLs of the current crawl by state.
func (s *BoltState) Counts() (_ Counts, err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	var c Counts
	err = s.db.View(func(tx *bolt.Tx) error {
		crawl := s.crawl
		if crawl == 0 {
			crawl = u64(tx.Bucket(bMeta).Get(kCrawl))
		}
		c.Fresh = tx.Bucket(bFresh).Stats().KeyN + tx.Bucket(bFreshR).Stats().KeyN
		c.Claimed = tx.Bucket(bClaimed).Stats().KeyN
		return tx.Bucket(bURLs).ForEach(func(_, v []byte) error {
			var rec urlRecord
			if decodeURLRecord(v, &rec) != nil || rec.Crawl != crawl {
				return nil
			}
			switch rec.State {
			case stateDone:
				c.Done++
			case stateFailed:
				c.Failed++
			}
			return nil
		})
	})
	return c, err
}

// Failures lists the URLs of the current crawl that failed, with reasons.
func (s *BoltState) Failures(max int) (_ []Failure, err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	var out []Failure
	err = s.db.View(func(tx *bolt.Tx) error {
		crawl := u64(tx.Bucket(bMeta).Get(kCrawl))
		return tx.Bucket(bURLs).ForEach(func(k, v []byte) error {
			var rec urlRecord
			if len(out) < max && decodeURLRecord(v, &rec) == nil && rec.Crawl == crawl && rec.State == stateFailed {
				out = append(out, Failure{URL: string(k), Err: errors.New(rec.Reason)})
			}
			return nil
		})
	})
	return out, err
}

// Pages implements State.
func (s *BoltState) Pages() (_ []Page, err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	var out []Page
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bPages).ForEach(func(_, v []byte) error {
			var p Page
			if json.Unmarshal(v, &p) == nil {
				out = append(out, p)
			}
			return nil
		})
	})
	return out, err
}

// ClearPages implements State.
func (s *BoltState) ClearPages() (err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bPages); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bPages)
		return err
	})
}

// RunInfo is one run of amber archive, for amber status.
type RunInfo struct {
	Crawl    uint64    `json:"crawl"`
	Resumed  bool      `json:"resumed"`
	PID      int       `json:"pid"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended,omitzero"`
	Exit     int       `json:"exit"`
	Files    []string  `json:"files,omitempty"`
	Captures int       `json:"captures"`
	Bytes    int64     `json:"bytes"`
	Failures int       `json:"failures"`
}

// StartRun records a run as started and returns its number.
func (s *BoltState) StartRun(r RunInfo) (_ uint64, err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	var seq uint64
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRuns)
		seq, _ = b.NextSequence()
		return putJSON(b, b64(seq), r)
	})
	return seq, err
}

// EndRun records how run seq ended.
func (s *BoltState) EndRun(seq uint64, r RunInfo) (err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	return s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bRuns), b64(seq), r)
	})
}

// Runs lists the runs, oldest first.
func (s *BoltState) Runs() (_ []RunInfo, err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	var out []RunInfo
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bRuns).ForEach(func(_, v []byte) error {
			var r RunInfo
			if json.Unmarshal(v, &r) == nil {
				out = append(out, r)
			}
			return nil
		})
	})
	return out, err
}

// Close implements State.
func (s *BoltState) Close() (err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	return s.db.Close()
}
