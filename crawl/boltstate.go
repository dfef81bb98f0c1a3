package crawl

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltState is the embedded State: one bbolt file, fsynced on every
// commit, so a crash or a power loss loses no acknowledged change.
type BoltState struct {
	db      *bolt.DB
	crawl   uint64
	recrawl bool
}

var (
	bMeta    = []byte("meta")
	bURLs    = []byte("urls")    // key → urlRecord
	bFresh   = []byte("fresh")   // sequence → key, the queue in order
	bClaimed = []byte("claimed") // key → nothing, for resuming
	bDigests = []byte("digests") // payload digest → DigestRef
	bPages   = []byte("pages")   // sequence → Page, not yet in pages.jsonl
	bRuns    = []byte("runs")    // sequence → RunInfo
	bRobots  = []byte("robots")  // origin → RobotsTxt

	kCrawl   = []byte("crawl")
	kRecrawl = []byte("recrawl")
)

// urlRecord is a URL's state in the crawl that last saw it.
type urlRecord struct {
	State  byte   `json:"s"`
	Crawl  uint64 `json:"c"`
	Reason string `json:"r,omitempty"`
	Data   []byte `json:"d,omitempty"` // kept while FRESH or CLAIMED
}

// ErrLocked is returned when another process has the state file open.
var ErrLocked = errors.New("crawl: state file is in use by another process")

// OpenBoltState opens (creating it if needed) the state file at path.
func OpenBoltState(path string) (*BoltState, error) {
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("crawl: state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bMeta, bURLs, bFresh, bClaimed, bDigests, bPages, bRuns, bRobots} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("crawl: state %s: %w", path, err)
	}
	return &BoltState{db: db}, nil
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
func (s *BoltState) Begin(recrawl bool) (CrawlInfo, error) {
	var info CrawlInfo
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		info.Crawl = u64(meta.Get(kCrawl))
		fresh, claimed := tx.Bucket(bFresh), tx.Bucket(bClaimed)
		unfinished := info.Crawl > 0 && (fresh.Stats().KeyN > 0 || claimed.Stats().KeyN > 0)
		if unfinished {
			info.Resumed = true
			recrawl = meta.Get(kRecrawl) != nil // the crawl keeps its mode
			// CLAIMED URLs were being fetched when the last run stopped:
			// they go back to the end of the queue.
			urls := tx.Bucket(bURLs)
			var keys [][]byte
			claimed.ForEach(func(k, _ []byte) error {
				keys = append(keys, append([]byte(nil), k...))
				return nil
			})
			for _, k := range keys {
				var rec urlRecord
				if json.Unmarshal(urls.Get(k), &rec) == nil {
					rec.State = stateFresh
					if err := putJSON(urls, k, rec); err != nil {
						return err
					}
				}
				seq, _ := fresh.NextSequence()
				if err := fresh.Put(b64(seq), k); err != nil {
					return err
				}
				if err := claimed.Delete(k); err != nil {
					return err
				}
			}
			info.Requeued = len(keys)
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
	return info, err
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
	if json.Unmarshal(raw, &rec) != nil {
		return true
	}
	if rec.Crawl == s.crawl {
		return false
	}
	// Seen in an earlier crawl: fetched again when recrawling; a URL that
	// failed then is tried again in any new crawl.
	return s.recrawl || rec.State == stateFailed
}

// Add implements State. A read-only pass filters out known keys first, so
// a page whose links are all known costs no write.
func (s *BoltState) Add(entries []Entry) (int, error) {
	var fresh []Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		urls := tx.Bucket(bURLs)
		for _, e := range entries {
			if s.isNew(urls.Get([]byte(e.Key))) {
				fresh = append(fresh, e)
			}
		}
		return nil
	})
	if err != nil || len(fresh) == 0 {
		return 0, err
	}
	n := 0
	err = s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		urls, q := tx.Bucket(bURLs), tx.Bucket(bFresh)
		for _, e := range fresh {
			k := []byte(e.Key)
			if !s.isNew(urls.Get(k)) {
				continue // queued meanwhile, by this batch or another
			}
			if err := putJSON(urls, k, urlRecord{State: stateFresh, Crawl: s.crawl, Data: e.Data}); err != nil {
				return err
			}
			seq, _ := q.NextSequence()
			if err := q.Put(b64(seq), k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Claim implements State.
func (s *BoltState) Claim(max int) ([]Entry, error) {
	var out []Entry
	err := s.db.Update(func(tx *bolt.Tx) error {
		out = out[:0]
		urls, q, claimed := tx.Bucket(bURLs), tx.Bucket(bFresh), tx.Bucket(bClaimed)
		c := q.Cursor()
		var seqs [][]byte
		for k, v := c.First(); k != nil && len(out) < max; k, v = c.Next() {
			seqs = append(seqs, append([]byte(nil), k...))
			var rec urlRecord
			if json.Unmarshal(urls.Get(v), &rec) != nil || rec.State != stateFresh {
				continue
			}
			rec.State = stateClaimed
			if err := putJSON(urls, v, rec); err != nil {
				return err
			}
			if err := claimed.Put(v, nil); err != nil {
				return err
			}
			out = append(out, Entry{Key: string(v), Data: rec.Data})
		}
		for _, k := range seqs {
			if err := q.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Finish implements State.
func (s *BoltState) Finish(outcomes []Outcome, digests []DigestRef) error {
	if len(outcomes) == 0 && len(digests) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		urls, claimed, dig, pages := tx.Bucket(bURLs), tx.Bucket(bClaimed), tx.Bucket(bDigests), tx.Bucket(bPages)
		for _, o := range outcomes {
			k := []byte(o.Key)
			rec := urlRecord{State: stateDone, Crawl: s.crawl}
			if o.Failed != "" {
				rec.State, rec.Reason = stateFailed, o.Failed
			}
			if err := putJSON(urls, k, rec); err != nil {
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
			if err := putJSON(dig, []byte(d.Digest), d); err != nil {
				return err
			}
		}
		return nil
	})
}

// Recover implements State.
func (s *BoltState) Recover(outcomes []Outcome, digests []DigestRef) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		urls, claimed, dig, pages := tx.Bucket(bURLs), tx.Bucket(bClaimed), tx.Bucket(bDigests), tx.Bucket(bPages)
		for _, o := range outcomes {
			k := []byte(o.Key)
			var rec urlRecord
			if json.Unmarshal(urls.Get(k), &rec) != nil || rec.State != stateClaimed && rec.State != stateFresh {
				continue
			}
			rec.State, rec.Data = stateDone, nil
			if err := putJSON(urls, k, rec); err != nil {
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
			if dig.Get([]byte(d.Digest)) == nil {
				if err := putJSON(dig, []byte(d.Digest), d); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Robots implements State.
func (s *BoltState) Robots(origin string) (RobotsTxt, bool, error) {
	var r RobotsTxt
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
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
func (s *BoltState) PutRobots(origin string, r RobotsTxt) error {
	r.Crawl = s.crawl
	return s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bRobots), []byte(origin), r)
	})
}

// LookupDigest implements State.
func (s *BoltState) LookupDigest(d string) (DigestRef, bool, error) {
	var ref DigestRef
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bDigests).Get([]byte(d))
		if v == nil {
			return nil
		}
		ok = true
		ref.Digest = d
		return json.Unmarshal(v, &ref)
	})
	return ref, ok, err
}

// Counts implements State: the URLs of the current crawl by state.
func (s *BoltState) Counts() (Counts, error) {
	var c Counts
	err := s.db.View(func(tx *bolt.Tx) error {
		crawl := s.crawl
		if crawl == 0 {
			crawl = u64(tx.Bucket(bMeta).Get(kCrawl))
		}
		return tx.Bucket(bURLs).ForEach(func(_, v []byte) error {
			var rec urlRecord
			if json.Unmarshal(v, &rec) != nil || rec.Crawl != crawl {
				return nil
			}
			switch rec.State {
			case stateFresh:
				c.Fresh++
			case stateClaimed:
				c.Claimed++
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
func (s *BoltState) Failures(max int) ([]Failure, error) {
	var out []Failure
	err := s.db.View(func(tx *bolt.Tx) error {
		crawl := u64(tx.Bucket(bMeta).Get(kCrawl))
		return tx.Bucket(bURLs).ForEach(func(k, v []byte) error {
			var rec urlRecord
			if len(out) < max && json.Unmarshal(v, &rec) == nil && rec.Crawl == crawl && rec.State == stateFailed {
				out = append(out, Failure{URL: string(k), Err: errors.New(rec.Reason)})
			}
			return nil
		})
	})
	return out, err
}

// Pages implements State.
func (s *BoltState) Pages() ([]Page, error) {
	var out []Page
	err := s.db.View(func(tx *bolt.Tx) error {
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
func (s *BoltState) ClearPages() error {
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
func (s *BoltState) StartRun(r RunInfo) (uint64, error) {
	var seq uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRuns)
		seq, _ = b.NextSequence()
		return putJSON(b, b64(seq), r)
	})
	return seq, err
}

// EndRun records how run seq ended.
func (s *BoltState) EndRun(seq uint64, r RunInfo) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bRuns), b64(seq), r)
	})
}

// Runs lists the runs, oldest first.
func (s *BoltState) Runs() ([]RunInfo, error) {
	var out []RunInfo
	err := s.db.View(func(tx *bolt.Tx) error {
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
func (s *BoltState) Close() error { return s.db.Close() }
