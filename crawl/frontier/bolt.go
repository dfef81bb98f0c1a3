package frontier

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/amber-archiver/amber/internal/binrec"
)

// Bolt is a Frontier in a bbolt file: the embedded default, one file in
// the collection, shared by the goroutines of one process (bbolt locks the
// file against other processes). Every change is committed, and synced,
// before its method returns.
//
// Buckets: meta (crawl number, recrawl mode, queue ends), urls (key →
// urlRec), two queues (requisites, pages: position → key; positions grow
// at the back and shrink at the front, so an entry can go back ahead of the
// rest), leases (expiry ‖ key → token, in expiry order, so expired leases
// are found from the start), digests, robots, pages (worker NUL seq →
// page), runs.
//
// A file that is not a sound bbolt database (truncated, bytes flipped, not
// bbolt at all) is refused at open with a *DamagedError, and a panic of
// bbolt's on a page damaged later is one too; a state file of an earlier
// amber is refused with an *OldFormatError.
type Bolt struct {
	db      *bolt.DB
	path    string
	now     Clock
	created bool
	closed  atomic.Bool

	// batching counts the calls in batch: a call alone commits at once,
	// calls that overlap share a commit.
	batching atomic.Int32

	// digestFilter holds every digest of the file (one process has it
	// open), so that a look-up of a payload never archived, most of them,
	// reads nothing. A false positive costs a read.
	filterMu     sync.RWMutex
	digestFilter *bloom.BloomFilter
}

// Path is the file the frontier is in.
func (s *Bolt) Path() string { return s.path }

// Created reports whether the file was new when it was opened: a
// collection whose state is new has no record of its earlier runs.
func (s *Bolt) Created() bool { return s.created }

var (
	bMeta     = []byte("meta")
	bURLs     = []byte("urls")
	bQueueR   = []byte("queue-requisites")
	bQueueP   = []byte("queue-pages")
	bLeases   = []byte("leases")
	bDigests  = []byte("digests")
	bRobots   = []byte("robots")
	bPages    = []byte("pages")
	bRuns     = []byte("runs")
	bCookies  = []byte("cookies")
	kCrawl    = []byte("crawl")
	kRecrawl  = []byte("recrawl")
	queueMid  = uint64(1) << 63
	allBucket = [][]byte{bMeta, bURLs, bQueueR, bQueueP, bLeases, bDigests, bRobots, bPages, bRuns, bCookies}
)

// urlRec is the state of one key.
type urlRec struct {
	State     byte   `json:"s"`
	Crawl     uint64 `json:"c"`
	Requisite bool   `json:"r,omitempty"`
	Reason    string `json:"x,omitempty"`
	Data      []byte `json:"d,omitempty"`
	Token     uint64 `json:"t,omitempty"`
	Worker    string `json:"w,omitempty"`
	Expires   int64  `json:"e,omitempty"` // unix ns
}

// OpenBolt opens (creating it if needed) the frontier in the bbolt file at
// path, whose leases go by clock (nil: time.Now). An existing file is
// proved sound first (see Bolt); one another process has open is
// ErrLocked.
func OpenBolt(path string, clock Clock) (_ *Bolt, err error) {
	if clock == nil {
		clock = time.Now
	}
	// A file of 0 bytes is new too: bbolt writes its first pages.
	fi, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist) || statErr == nil && fi.Size() == 0
	if !created {
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
		return nil, fmt.Errorf("crawl state %s: %w", path, err)
	}
	if err != nil {
		return nil, damaged(path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBucket {
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
		return nil, fmt.Errorf("crawl state %s: %w", path, err)
	}
	// Adds from concurrent workers share one commit (and one fsync) when
	// they come within 2 ms of each other.
	db.MaxBatchDelay = 2 * time.Millisecond
	s := &Bolt{db: db, path: path, now: clock, created: created}
	if err := s.loadDigestFilter(); err != nil {
		closeQuietly(db)
		return nil, err
	}
	return s, nil
}

// loadDigestFilter builds the Bloom filter of the digests the file holds.
func (s *Bolt) loadDigestFilter() error {
	return s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bDigests)
		f := bloom.NewWithEstimates(max(2*uint(b.Stats().KeyN), 1<<20), 0.01)
		err := b.ForEach(func(k, _ []byte) error {
			f.Add(k)
			return nil
		})
		s.filterMu.Lock()
		s.digestFilter = f
		s.filterMu.Unlock()
		return err
	})
}

func u64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func b64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func (s *Bolt) update(fn func(tx *bolt.Tx) error) (err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	err = s.db.Update(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// batch is update for calls that may share one commit with concurrent
// ones; fn may run more than once, and on another goroutine. A call with
// no other in progress commits at once: bbolt's Batch would wait
// MaxBatchDelay for company that is not coming.
func (s *Bolt) batch(fn func(tx *bolt.Tx) error) (err error) {
	defer s.batching.Add(-1)
	if s.batching.Add(1) == 1 {
		return s.update(fn)
	}
	defer s.guard(&err, debug.SetPanicOnFault(true))
	err = s.db.Batch(func(tx *bolt.Tx) (err error) {
		// On another goroutine bbolt would make a panic an error of its own.
		defer s.guard(&err, debug.SetPanicOnFault(true))
		return fn(tx)
	})
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

func (s *Bolt) view(fn func(tx *bolt.Tx) error) (err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	err = s.db.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

func getRec(urls *bolt.Bucket, key string) (*urlRec, error) {
	v := urls.Get([]byte(key))
	if v == nil {
		return nil, nil
	}
	var r urlRec
	if err := r.decode(v); err != nil {
		return nil, fmt.Errorf("frontier: record of %q: %w", key, err)
	}
	return &r, nil
}

func putRec(urls *bolt.Bucket, key string, r *urlRec) error {
	return urls.Put([]byte(key), r.encode())
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

// queue ends are kept in meta: "<bucket>-head" is the first position,
// "<bucket>-tail" one past the last.
func queueEnds(meta *bolt.Bucket, q []byte) (head, tail uint64) {
	head, tail = u64(meta.Get(append(q, "-head"...))), u64(meta.Get(append(q, "-tail"...)))
	if head == 0 {
		head, tail = queueMid, queueMid
	}
	return head, tail
}

func setQueueEnds(meta *bolt.Bucket, q []byte, head, tail uint64) error {
	if err := meta.Put(append(q, "-head"...), b64(head)); err != nil {
		return err
	}
	return meta.Put(append(q, "-tail"...), b64(tail))
}

// pusher puts keys in the queues of one transaction, and writes the
// queues' ends once, when flushed, rather than at every push.
type pusher struct {
	tx   *bolt.Tx
	ends map[bool]*[2]uint64 // requisite → head, tail
}

func newPusher(tx *bolt.Tx) *pusher { return &pusher{tx: tx, ends: map[bool]*[2]uint64{}} }

func queueOf(requisite bool) []byte {
	if requisite {
		return bQueueR
	}
	return bQueueP
}

func (p *pusher) push(requisite, front bool, key string) error {
	q := queueOf(requisite)
	e := p.ends[requisite]
	if e == nil {
		head, tail := queueEnds(p.tx.Bucket(bMeta), q)
		e = &[2]uint64{head, tail}
		p.ends[requisite] = e
	}
	pos := e[1]
	if front {
		e[0]--
		pos = e[0]
	} else {
		e[1]++
	}
	return p.tx.Bucket(q).Put(b64(pos), []byte(key))
}

func (p *pusher) flush() error {
	for requisite, e := range p.ends {
		if err := setQueueEnds(p.tx.Bucket(bMeta), queueOf(requisite), e[0], e[1]); err != nil {
			return err
		}
	}
	return nil
}

// leaseKey orders leases by expiry, then by claim (token).
func leaseKey(expires int64, token uint64, key string) []byte {
	return append(binary.BigEndian.AppendUint64(b64(uint64(expires)), token), key...)
}

// expire puts the entries whose leases expired by now back at the front
// of their queues, the oldest lease first.
func expire(tx *bolt.Tx, now time.Time) error {
	leases, urls := tx.Bucket(bLeases), tx.Bucket(bURLs)
	var back []string
	c := leases.Cursor()
	for k, _ := c.First(); k != nil && int64(u64(k[:8])) <= now.UnixNano(); k, _ = c.First() {
		back = append(back, string(k[16:]))
		if err := c.Delete(); err != nil {
			return err
		}
	}
	p := newPusher(tx)
	for i := len(back) - 1; i >= 0; i-- {
		r, err := getRec(urls, back[i])
		if err != nil {
			return err
		}
		if r == nil || r.State != leased {
			continue // a lease row without its lease: nothing to put back
		}
		r.State, r.Token, r.Worker, r.Expires = queued, 0, "", 0
		if err := putRec(urls, back[i], r); err != nil {
			return err
		}
		if err := p.push(r.Requisite, true, back[i]); err != nil {
			return err
		}
	}
	return p.flush()
}

// Begin implements Frontier.
func (s *Bolt) Begin(ctx context.Context, recrawl bool) (CrawlInfo, error) {
	var info CrawlInfo
	err := s.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		info.Crawl = u64(meta.Get(kCrawl))
		if info.Crawl > 0 && (tx.Bucket(bLeases).Stats().KeyN > 0 || hasQueued(tx, info.Crawl)) {
			info.Resumed = true
			return nil
		}
		info.Crawl++
		if err := meta.Put(kCrawl, b64(info.Crawl)); err != nil {
			return err
		}
		if recrawl {
			return meta.Put(kRecrawl, []byte{1})
		}
		return meta.Delete(kRecrawl)
	})
	return info, err
}

// hasQueued reports whether a queue holds a key still queued in crawl.
func hasQueued(tx *bolt.Tx, crawl uint64) bool {
	urls := tx.Bucket(bURLs)
	for _, q := range [][]byte{bQueueR, bQueueP} {
		c := tx.Bucket(q).Cursor()
		for _, k := c.First(); k != nil; _, k = c.Next() {
			if r, err := getRec(urls, string(k)); err == nil && r != nil && r.State == queued && r.Crawl == crawl {
				return true
			}
		}
	}
	return false
}

// admits reports whether e is queued, given the key's record r.
func admits(r *urlRec, e Entry, crawl uint64, recrawl bool) bool {
	if r == nil {
		return true
	}
	if r.Crawl != crawl {
		return (r.State == done || r.State == failed) && (recrawl || r.State == failed)
	}
	return e.Requisite && (r.State == queued && !r.Requisite || r.State == failed && strings.HasPrefix(r.Reason, SkippedPrefix))
}

// Add implements Frontier. A read-only pass filters out known keys
// first, so that a page whose links are all known costs no commit; the
// writes of concurrent Adds share one commit.
func (s *Bolt) Add(ctx context.Context, entries []Entry) (int, error) {
	var fresh []Entry
	err := s.view(func(tx *bolt.Tx) error {
		meta, urls := tx.Bucket(bMeta), tx.Bucket(bURLs)
		crawl, recrawl := u64(meta.Get(kCrawl)), meta.Get(kRecrawl) != nil
		for _, e := range entries {
			r, err := getRec(urls, e.Key)
			if err != nil {
				return err
			}
			if admits(r, e, crawl, recrawl) {
				fresh = append(fresh, e)
			}
		}
		return nil
	})
	if err != nil || len(fresh) == 0 {
		return 0, err
	}
	n := 0
	err = s.batch(func(tx *bolt.Tx) error {
		n = 0
		meta, urls := tx.Bucket(bMeta), tx.Bucket(bURLs)
		crawl, recrawl := u64(meta.Get(kCrawl)), meta.Get(kRecrawl) != nil
		p := newPusher(tx)
		for _, e := range fresh {
			r, err := getRec(urls, e.Key)
			if err != nil {
				return err
			}
			if !admits(r, e, crawl, recrawl) {
				continue
			}
			if err := putRec(urls, e.Key, &urlRec{State: queued, Crawl: crawl, Requisite: e.Requisite, Data: e.Data}); err != nil {
				return err
			}
			if err := p.push(e.Requisite, false, e.Key); err != nil {
				return err
			}
			n++
		}
		return p.flush()
	})
	return n, err
}

// Claim implements Frontier.
func (s *Bolt) Claim(ctx context.Context, worker string, max int, ttl time.Duration) ([]Lease, error) {
	var out []Lease
	err := s.update(func(tx *bolt.Tx) error {
		out = out[:0]
		now := s.now()
		if err := expire(tx, now); err != nil {
			return err
		}
		meta, urls, leases := tx.Bucket(bMeta), tx.Bucket(bURLs), tx.Bucket(bLeases)
		for _, q := range [][]byte{bQueueR, bQueueP} {
			requisite := bytes.Equal(q, bQueueR)
			c := tx.Bucket(q).Cursor()
			head, tail := queueEnds(meta, q)
			popped := false
			for k, v := c.First(); k != nil && len(out) < max; k, v = c.First() {
				key := string(v)
				if err := c.Delete(); err != nil {
					return err
				}
				head, popped = u64(k)+1, true
				r, err := getRec(urls, key)
				if err != nil {
					return err
				}
				if r == nil || r.State != queued || r.Requisite != requisite {
					continue // claimed already, or moved to the requisites
				}
				tok, err := meta.NextSequence()
				if err != nil {
					return err
				}
				exp := now.Add(ttl)
				r.State, r.Token, r.Worker, r.Expires = leased, tok, worker, exp.UnixNano()
				if err := putRec(urls, key, r); err != nil {
					return err
				}
				if err := leases.Put(leaseKey(r.Expires, r.Token, key), b64(tok)); err != nil {
					return err
				}
				out = append(out, Lease{Entry: Entry{Key: key, Data: r.Data, Requisite: r.Requisite}, Worker: worker, Token: tok, Expires: time.Unix(0, r.Expires).In(exp.Location())})
			}
			if popped {
				if err := setQueueEnds(meta, q, head, tail); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// held returns the record of a lease still held at now, or nil.
func held(urls *bolt.Bucket, l Lease, now time.Time) (*urlRec, error) {
	r, err := getRec(urls, l.Key)
	if err != nil || r == nil {
		return nil, err
	}
	if r.State != leased || r.Token != l.Token || now.UnixNano() >= r.Expires {
		return nil, nil
	}
	return r, nil
}

// Extend implements Frontier.
func (s *Bolt) Extend(ctx context.Context, in []Lease, ttl time.Duration) ([]Lease, error) {
	var out []Lease
	var lost []string
	err := s.update(func(tx *bolt.Tx) error {
		out, lost = out[:0], lost[:0]
		now := s.now()
		urls, leases := tx.Bucket(bURLs), tx.Bucket(bLeases)
		for _, l := range in {
			r, err := held(urls, l, now)
			if err != nil {
				return err
			}
			if r == nil {
				lost = append(lost, l.Key)
				continue
			}
			if err := leases.Delete(leaseKey(r.Expires, r.Token, l.Key)); err != nil {
				return err
			}
			exp := now.Add(ttl)
			r.Expires = exp.UnixNano()
			if err := putRec(urls, l.Key, r); err != nil {
				return err
			}
			if err := leases.Put(leaseKey(r.Expires, r.Token, l.Key), b64(r.Token)); err != nil {
				return err
			}
			l.Expires = exp
			out = append(out, l)
		}
		return nil
	})
	if err == nil && len(lost) > 0 {
		err = &LeaseError{Keys: lost}
	}
	return out, err
}

// Release implements Frontier.
func (s *Bolt) Release(ctx context.Context, in []Lease) error {
	return s.update(func(tx *bolt.Tx) error {
		now := s.now()
		urls, leases := tx.Bucket(bURLs), tx.Bucket(bLeases)
		p := newPusher(tx)
		for i := len(in) - 1; i >= 0; i-- {
			l := in[i]
			r, err := held(urls, l, now)
			if err != nil {
				return err
			}
			if r == nil {
				continue
			}
			if err := leases.Delete(leaseKey(r.Expires, r.Token, l.Key)); err != nil {
				return err
			}
			r.State, r.Token, r.Worker, r.Expires = queued, 0, "", 0
			if err := putRec(urls, l.Key, r); err != nil {
				return err
			}
			if err := p.push(r.Requisite, true, l.Key); err != nil {
				return err
			}
		}
		return p.flush()
	})
}

// Finish implements Frontier.
func (s *Bolt) Finish(ctx context.Context, outcomes []Outcome, digests []DigestRef) error {
	var lost []string
	err := s.update(func(tx *bolt.Tx) error {
		lost = lost[:0]
		now := s.now()
		urls, leases := tx.Bucket(bURLs), tx.Bucket(bLeases)
		for _, o := range outcomes {
			r, err := held(urls, o.Lease, now)
			if err != nil {
				return err
			}
			if r == nil {
				lost = append(lost, o.Lease.Key)
				continue
			}
			if err := leases.Delete(leaseKey(r.Expires, r.Token, o.Lease.Key)); err != nil {
				return err
			}
			rec := &urlRec{State: done, Crawl: r.Crawl}
			if o.Failed != "" {
				rec.State, rec.Reason = failed, o.Failed
			}
			if err := putRec(urls, o.Lease.Key, rec); err != nil {
				return err
			}
			if o.Page != nil {
				if err := addPage(tx, o.Lease.Worker, *o.Page); err != nil {
					return err
				}
			}
		}
		return s.index(tx, digests)
	})
	if err == nil && len(lost) > 0 {
		err = &LeaseError{Keys: lost}
	}
	return err
}

func addPage(tx *bolt.Tx, worker string, p Page) error {
	b := tx.Bucket(bPages)
	wb, err := b.CreateBucketIfNotExists([]byte(worker))
	if err != nil {
		return err
	}
	seq, err := wb.NextSequence()
	if err != nil {
		return err
	}
	p.Seq = seq
	return putJSON(wb, b64(seq), p)
}

func (s *Bolt) index(tx *bolt.Tx, digests []DigestRef) error {
	// Added to the filter before the commit: a false positive costs a
	// read, a false negative would cost a revisit.
	s.filterMu.Lock()
	for _, d := range digests {
		s.digestFilter.AddString(d.Digest)
	}
	s.filterMu.Unlock()
	b := tx.Bucket(bDigests)
	for _, d := range digests {
		if b.Get([]byte(d.Digest)) != nil {
			continue // the first record of a payload is the one revisits refer to
		}
		if err := b.Put([]byte(d.Digest), encodeDigest(d)); err != nil {
			return err
		}
	}
	return nil
}

// Recover implements Frontier.
func (s *Bolt) Recover(ctx context.Context, keys []string, digests []DigestRef) error {
	return s.update(func(tx *bolt.Tx) error {
		if err := expire(tx, s.now()); err != nil {
			return err
		}
		urls := tx.Bucket(bURLs)
		crawl := u64(tx.Bucket(bMeta).Get(kCrawl))
		for _, k := range keys {
			r, err := getRec(urls, k)
			if err != nil {
				return err
			}
			switch {
			case r == nil:
				r = &urlRec{State: done, Crawl: crawl}
			case r.State == queued:
				r = &urlRec{State: done, Crawl: r.Crawl}
			case r.Crawl != crawl && (r.State == done || r.State == failed):
				r = &urlRec{State: done, Crawl: crawl}
			default:
				continue
			}
			if err := putRec(urls, k, r); err != nil {
				return err
			}
		}
		return s.index(tx, digests)
	})
}

// LookupDigest implements Frontier.
func (s *Bolt) LookupDigest(ctx context.Context, digest string) (DigestRef, bool, error) {
	s.filterMu.RLock()
	maybe := s.digestFilter.TestString(digest)
	s.filterMu.RUnlock()
	if !maybe {
		if s.closed.Load() {
			return DigestRef{}, false, ErrClosed
		}
		return DigestRef{}, false, nil
	}
	var d DigestRef
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bDigests).Get([]byte(digest))
		if v == nil {
			return nil
		}
		ok = true
		return decodeDigest(v, &d)
	})
	return d, ok, err
}

// Robots implements Frontier.
func (s *Bolt) Robots(ctx context.Context, origin string) (RobotsTxt, bool, error) {
	var r RobotsTxt
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bRobots).Get([]byte(origin))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &r)
	})
	return r, ok, err
}

// PutRobots implements Frontier.
func (s *Bolt) PutRobots(ctx context.Context, origin string, r RobotsTxt) (RobotsTxt, error) {
	out := r
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRobots)
		if v := b.Get([]byte(origin)); v != nil {
			var old RobotsTxt
			if err := json.Unmarshal(v, &old); err == nil && old.Crawl >= r.Crawl {
				out = old
				return nil
			}
		}
		out = r
		return putJSON(b, []byte(origin), r)
	})
	return out, err
}

// Cookies implements Frontier. A cookie is stored as the crawl it was set
// in (uvarint) and its data.
func (s *Bolt) Cookies(ctx context.Context) ([]Cookie, error) {
	var out []Cookie
	err := s.view(func(tx *bolt.Tx) error {
		crawl := u64(tx.Bucket(bMeta).Get(kCrawl))
		return tx.Bucket(bCookies).ForEach(func(k, v []byte) error {
			c, n := binary.Uvarint(v)
			if n <= 0 {
				return fmt.Errorf("frontier: cookie record of %q: %w", k, binrec.ErrMalformed)
			}
			if c == crawl {
				out = append(out, Cookie{Key: string(k), Data: append([]byte(nil), v[n:]...)})
			}
			return nil
		})
	})
	return out, err
}

// PutCookies implements Frontier.
func (s *Bolt) PutCookies(ctx context.Context, cookies []Cookie) error {
	return s.batch(func(tx *bolt.Tx) error {
		crawl := u64(tx.Bucket(bMeta).Get(kCrawl))
		b := tx.Bucket(bCookies)
		for _, c := range cookies {
			var err error
			if len(c.Data) == 0 {
				err = b.Delete([]byte(c.Key))
			} else {
				err = b.Put([]byte(c.Key), append(binary.AppendUvarint(nil, crawl), c.Data...))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Counts implements Frontier.
func (s *Bolt) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.update(func(tx *bolt.Tx) error {
		c = Counts{}
		if err := expire(tx, s.now()); err != nil {
			return err
		}
		crawl := u64(tx.Bucket(bMeta).Get(kCrawl))
		return tx.Bucket(bURLs).ForEach(func(k, v []byte) error {
			var r urlRec
			if err := r.decode(v); err != nil || r.Crawl != crawl {
				return err
			}
			switch r.State {
			case queued:
				c.Queued++
			case leased:
				c.Leased++
			case done:
				c.Done++
			case failed:
				c.Failed++
			}
			return nil
		})
	})
	return c, err
}

// Failures implements Frontier.
func (s *Bolt) Failures(ctx context.Context, max int) ([]Failure, error) {
	var out []Failure
	err := s.view(func(tx *bolt.Tx) error {
		crawl := u64(tx.Bucket(bMeta).Get(kCrawl))
		c := tx.Bucket(bURLs).Cursor()
		for k, v := c.First(); k != nil && len(out) < max; k, v = c.Next() {
			var r urlRec
			if err := r.decode(v); err != nil {
				return err
			}
			if r.Crawl == crawl && r.State == failed {
				out = append(out, Failure{URL: string(k), Reason: r.Reason})
			}
		}
		return nil
	})
	return out, err
}

// Pages implements Frontier.
func (s *Bolt) Pages(ctx context.Context, worker string) ([]Page, error) {
	var out []Page
	err := s.view(func(tx *bolt.Tx) error {
		wb := tx.Bucket(bPages).Bucket([]byte(worker))
		if wb == nil {
			return nil
		}
		return wb.ForEach(func(_, v []byte) error {
			var p Page
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

// ClearPages implements Frontier.
func (s *Bolt) ClearPages(ctx context.Context, worker string, through uint64) error {
	return s.update(func(tx *bolt.Tx) error {
		wb := tx.Bucket(bPages).Bucket([]byte(worker))
		if wb == nil {
			return nil
		}
		c := wb.Cursor()
		for k, _ := c.First(); k != nil && u64(k) <= through; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// StartRun implements Frontier.
func (s *Bolt) StartRun(ctx context.Context, r RunInfo) (uint64, error) {
	var seq uint64
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRuns)
		seq, _ = b.NextSequence()
		return putJSON(b, b64(seq), r)
	})
	return seq, err
}

// EndRun implements Frontier.
func (s *Bolt) EndRun(ctx context.Context, seq uint64, r RunInfo) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRuns)
		if b.Get(b64(seq)) == nil {
			return fmt.Errorf("frontier: no run %d", seq)
		}
		return putJSON(b, b64(seq), r)
	})
}

// Runs implements Frontier.
func (s *Bolt) Runs(ctx context.Context) ([]RunInfo, error) {
	var out []RunInfo
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bRuns).ForEach(func(_, v []byte) error {
			var r RunInfo
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// Reclaim puts every leased entry back at the front of its queue, as if
// its lease had expired, and returns how many. bbolt lets one process
// have the file open: every lease in it belongs to a run that is dead, so
// the run that opens it need not wait for them to expire.
func (s *Bolt) Reclaim(ctx context.Context) (int, error) {
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		n = tx.Bucket(bLeases).Stats().KeyN
		return expire(tx, time.Unix(0, math.MaxInt64))
	})
	return n, err
}

// Close implements Frontier.
func (s *Bolt) Close() error {
	if s.closed.Swap(true) {
		return ErrClosed
	}
	return s.db.Close()
}
