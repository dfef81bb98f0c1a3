package warc

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"
)

// Record types amber writes.
const (
	TypeWarcinfo = "warcinfo"
	TypeRequest  = "request"
	TypeResponse = "response"
	TypeRevisit  = "revisit"
	TypeMetadata = "metadata"
	TypeResource = "resource"
)

// DateFormat is the WARC-Date layout amber writes: UTC, second precision,
// which every reader accepts.
const DateFormat = "2006-01-02T15:04:05Z"

// Field is one WARC header field, kept in order.
type Field struct{ Name, Value string }

// WriterOptions configure a Writer. Zero values mean the documented default.
type WriterOptions struct {
	Dir             string           // directory the WARC files go to (required)
	Prefix          string           // file name prefix; default "amber"
	Worker          string           // worker id in file names (see CheckWorkerID), also in warcinfo as amber-worker; default the host name
	MaxFileSize     int64            // start a new file beyond this many bytes on disk; default 1 GiB
	DigestAlgorithm string           // "sha1" (default, base32) or "sha256"/"sha512" (hex)
	SpoolDir        string           // where blocks above MemoryLimit spool; default os.TempDir
	MemoryLimit     int              // bytes of a block kept in memory before spooling; default 4 MiB
	GzipLevel       int              // 1 (fastest) to 9 (smallest); default gzip.DefaultCompression
	Info            []Field          // warcinfo fields (software, format, settings, ...)
	Now             func() time.Time // clock, for tests; default time.Now
}

// Written tells where a record landed.
type Written struct {
	File   string // base name of the WARC file, without the .open suffix
	Offset int64  // offset of the record's gzip member in that file
	Length int64  // length of that gzip member
	ID     string // WARC-Record-ID
}

// Writer writes records as WARC/1.1, one gzip member per record, into files
// named PREFIX-YYYYMMDDhhmmss-SERIAL-WORKER.warc.gz, each starting with a
// warcinfo record. A file is written as ….warc.gz.open and renamed when it
// is closed (on rotation or Close), so a name without .open is a complete
// file that is never written again.
//
// Writer is safe for concurrent use; the records passed to one Write call
// are written contiguously, in order, in the same file.
type Writer struct {
	opts   WriterOptions
	worker string // the last part of file names

	mu         sync.Mutex
	f          *os.File
	buf        *bufio.Writer
	gz         *gzip.Writer // at GzipLevel
	name       string       // current file, without .open
	size       int64        // bytes written to the current file
	fileHash   hash.Hash    // sha256 of the current file, for datapackage.json
	out        *fileWriter  // appends queued members to the current file
	warcinfoID string
	files      []string
	index      []string          // the CDXJ line of each indexed record written
	hashes     map[string]string // closed file → "sha256:<hex>"
	closed     bool
}

// NewWriter prepares a Writer; the first file is created by the first Write.
func NewWriter(opts WriterOptions) (*Writer, error) {
	if opts.Dir == "" {
		return nil, errors.New("warc: writer needs a directory")
	}
	if opts.Prefix == "" {
		opts.Prefix = "amber"
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = 1 << 30
	}
	if opts.DigestAlgorithm == "" {
		opts.DigestAlgorithm = "sha1"
	}
	if _, err := NewHash(opts.DigestAlgorithm); err != nil {
		return nil, err
	}
	if opts.MemoryLimit <= 0 {
		opts.MemoryLimit = 4 << 20
	}
	if opts.GzipLevel == 0 {
		opts.GzipLevel = gzip.DefaultCompression
	}
	gz, err := gzip.NewWriterLevel(io.Discard, opts.GzipLevel)
	if err != nil {
		return nil, fmt.Errorf("warc: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	worker := opts.Worker
	if worker == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "localhost"
		}
		worker = sanitizeHost(host)
	} else if err := CheckWorkerID(worker); err != nil {
		return nil, err
	}
	return &Writer{opts: opts, worker: worker, gz: gz}, nil
}

// sanitizeHost turns every character of h that cannot be in a file name
// part into '_'.
func sanitizeHost(h string) string {
	return strings.Map(func(r rune) rune {
		if workerIDRune(r) {
			return r
		}
		return '_'
	}, h)
}

// Algorithm returns the digest algorithm records are written with.
func (w *Writer) Algorithm() string { return w.opts.DigestAlgorithm }

// Builder accumulates one record. Its block is hashed as it is written and
// spools to disk beyond WriterOptions.MemoryLimit.
type Builder struct {
	typ     string
	id      string
	date    time.Time
	fields  []Field
	block   hash.Hash
	hashed  int64 // block bytes fed to block so far
	alg     string
	payload string // WARC-Payload-Digest, if set
	spool   spool
	store   bool // the block is already compressed: store it in the gzip member
}

// NewRecord starts a record of the given type with a fresh WARC-Record-ID
// and the given WARC-Date.
func (w *Writer) NewRecord(recordType string, date time.Time) *Builder {
	h, _ := NewHash(w.opts.DigestAlgorithm) // checked in NewWriter
	return &Builder{
		typ:   recordType,
		id:    "<" + uuid.New().URN() + ">",
		date:  date,
		block: h,
		alg:   w.opts.DigestAlgorithm,
		spool: spool{limit: w.opts.MemoryLimit, dir: w.opts.SpoolDir},
	}
}

// ID returns the record's WARC-Record-ID, angle brackets included.
func (b *Builder) ID() string { return b.id }

// Algorithm returns the digest algorithm of the writer that made b.
func (b *Builder) Algorithm() string { return b.alg }

// AddField appends a header field.
func (b *Builder) AddField(name, value string) { b.fields = append(b.fields, Field{name, value}) }

// SetPayloadDigest records the payload digest, computed by the caller over
// the entity body with transfer encoding removed.
func (b *Builder) SetPayloadDigest(sum []byte) { b.payload = FormatDigest(b.alg, sum) }

// SetIncompressible marks the block as already compressed (a JPEG, a
// gzip-encoded body...). Its gzip member then stores it rather than
// deflating it again: the same bytes, a valid member, a fraction of the
// CPU, and a file within 0.1% of the size.
func (b *Builder) SetIncompressible() { b.store = true }

// Write appends p to the record block. A block held in memory is hashed
// when the record is written, not as it arrives: the crawler receives a
// response while it holds one of the host's connection slots, and the
// hashing is better done after it lets the slot go. A block that spills to
// a file is hashed as it streams.
func (b *Builder) Write(p []byte) (int, error) {
	if b.spool.file == nil && len(b.spool.mem)+len(p) > b.spool.limit {
		b.hashMemory() // about to spill: the memory part is hashed before it goes
	}
	n, err := b.spool.Write(p)
	if b.spool.file != nil {
		b.block.Write(p[:n])
		b.hashed += int64(n)
	}
	return n, err
}

// hashMemory feeds the block hash the bytes held in memory it has not seen.
func (b *Builder) hashMemory() {
	if b.spool.file == nil && b.hashed < int64(len(b.spool.mem)) {
		b.block.Write(b.spool.mem[b.hashed:])
		b.hashed = int64(len(b.spool.mem))
	}
}

// Size is the number of block bytes written so far.
func (b *Builder) Size() int64 { return b.spool.size }

// Head returns up to n bytes from the start of the block.
func (b *Builder) Head(n int) []byte { return b.spool.head(n) }

// Reader returns the block written so far, from its start (from memory
// or from the spool file); it must not be used after the record is
// written or discarded.
func (b *Builder) Reader() (io.Reader, error) { return b.spool.Reader() }

// Discard frees the builder's spool without writing it.
func (b *Builder) Discard() error { return b.spool.Close() }

// Header returns the record's header fields as they will be written (the
// digests once the block is complete).
func (b *Builder) Header() Header {
	h := make(Header, 0, 4+len(b.fields))
	h = append(h, Field{"WARC-Type", b.typ}, Field{"WARC-Record-ID", b.id}, Field{"WARC-Date", b.date.UTC().Format(DateFormat)})
	h = append(h, b.fields...)
	if b.payload != "" {
		h = append(h, Field{"WARC-Payload-Digest", b.payload})
	}
	return h
}

// header renders the record header, ending with the empty line, into a
// pooled buffer the caller gives back with putHeader once it is written.
func (b *Builder) header(warcinfoID string) *bytes.Buffer {
	h := headerPool.Get().(*bytes.Buffer)
	h.Reset()
	h.WriteString("WARC/1.1\r\n")
	field := func(name, value string) {
		h.WriteString(name)
		h.WriteString(": ")
		h.WriteString(value)
		h.WriteString("\r\n")
	}
	field("WARC-Type", b.typ)
	field("WARC-Record-ID", b.id)
	field("WARC-Date", b.date.UTC().Format(DateFormat))
	for _, f := range b.fields {
		field(f.Name, sanitizeValue(f.Value))
	}
	if warcinfoID != "" {
		field("WARC-Warcinfo-ID", warcinfoID)
	}
	b.hashMemory()
	field("WARC-Block-Digest", FormatDigest(b.alg, b.block.Sum(nil)))
	if b.payload != "" {
		field("WARC-Payload-Digest", b.payload)
	}
	field("Content-Length", strconv.FormatInt(b.spool.size, 10))
	h.WriteString("\r\n")
	return h
}

// headerPool recycles header buffers (a response header is 500–900 bytes).
var headerPool = sync.Pool{New: func() any { b := new(bytes.Buffer); b.Grow(1024); return b }}

func putHeader(h *bytes.Buffer) {
	if h.Cap() <= 64<<10 {
		headerPool.Put(h)
	}
}

// sanitizeValue keeps a field value on one line: a URL with a raw CR or LF
// must not break the record's framing.
func sanitizeValue(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	return strings.NewReplacer("\r", "%0D", "\n", "%0A").Replace(v)
}

// Write writes the records contiguously, in order, to the current file,
// starting a new file first if the current one is full. The builders are
// consumed whether or not Write succeeds.
func (w *Writer) Write(builders ...*Builder) ([]Written, error) {
	defer func() {
		for _, b := range builders {
			b.Discard()
		}
	}()
	// Records held in memory are compressed before the lock is taken, so
	// several goroutines compress at once and the lock covers only the
	// append. A member names the current file's warcinfo record; if the
	// file changes meanwhile, the record is compressed again under the lock.
	w.mu.Lock()
	infoID := w.warcinfoID
	w.mu.Unlock()
	members := make([]*bytes.Buffer, len(builders))
	defer func() {
		for _, m := range members {
			if m != nil {
				memberPool.Put(m)
			}
		}
	}()
	// Index lines are worked out before the lock too; only the place
	// (file, offset, length) is filled in under it.
	lines := make([]*CDXJLine, len(builders))
	for i, b := range builders {
		if h := b.Header(); Indexed(h) {
			l := IndexLine(h, b.spool.head(httpHeadLimit), "")
			lines[i] = &l
		}
	}
	if err := keyByRequests(builders, lines); err != nil {
		return nil, err
	}
	for i, b := range builders {
		if b.spool.file == nil && infoID != "" {
			m := memberPool.Get().(*bytes.Buffer)
			m.Reset()
			if err := b.compress(m, infoID, w.opts.GzipLevel); err != nil {
				return nil, err
			}
			members[i] = m
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errors.New("warc: writer is closed")
	}
	if w.f != nil && w.size >= w.opts.MaxFileSize {
		if err := w.closeFile(); err != nil {
			return nil, err
		}
	}
	if w.f == nil {
		if err := w.openFile(); err != nil {
			return nil, err
		}
	}
	out := make([]Written, 0, len(builders))
	for i, b := range builders {
		off := w.size
		var err error
		if m := members[i]; m != nil && infoID == w.warcinfoID && m.Len() <= maxQueuedMember {
			members[i] = nil // the file writer recycles it
			err = w.queueMember(m)
		} else {
			err = w.writeRecord(b)
		}
		if err != nil {
			return out, err
		}
		wr := Written{File: w.name, Offset: off, Length: w.size - off, ID: b.id}
		out = append(out, wr)
		if l := lines[i]; l != nil {
			l.Filename, l.Offset, l.Length = wr.File, wr.Offset, wr.Length
			w.index = append(w.index, l.String())
		}
	}
	// The buffer is written out when full, and by Sync and Close: records
	// are durable only after Sync anyway, and a record cut short by a
	// crash is cut off by repair.
	return out, nil
}

// keyByRequests keys the line of each response or revisit written next to
// the request it answers (the record after or before it, with the same
// target URI), as the Indexer keys it reading the file back: a POST's by
// its request body. So the index a crawl writes as it goes is the one
// amber index makes, and replay tools find the POSTs of script-built pages.
func keyByRequests(builders []*Builder, lines []*CDXJLine) error {
	for i, l := range lines {
		if l == nil || (l.Type != TypeResponse && l.Type != TypeRevisit) {
			continue
		}
		for _, j := range []int{i + 1, i - 1} {
			if j < 0 || j >= len(builders) {
				continue
			}
			rb := builders[j]
			if rb.typ != TypeRequest {
				continue // most neighbours: no header built for them
			}
			h := rb.Header()
			if targetURI(h) != l.URL || !strings.HasPrefix(mediaType(h.Get("Content-Type")), "application/http") {
				continue
			}
			if bytes.HasPrefix(rb.spool.head(4), []byte("GET ")) {
				break // the usual case, keyed by its URL: nothing to read
			}
			r, err := rb.Reader()
			if err != nil {
				return err
			}
			method, ctype, body, err := readRequestHead(r, make([]byte, 16<<10))
			if err != nil {
				return fmt.Errorf("warc: reading the request of %s: %w", l.URL, err)
			}
			keyByRequest(l, method, ctype, body)
			break
		}
	}
	return nil
}

// copyBuffers saves io.Copy a 32 KiB allocation per record.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

var memberPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// gzipPools hold gzip writers by level, for compressing outside the lock.
var gzipPools sync.Map // level → *sync.Pool

func getGzip(level int) *gzip.Writer {
	p, _ := gzipPools.LoadOrStore(level, &sync.Pool{New: func() any {
		zw, _ := gzip.NewWriterLevel(io.Discard, level) // the level was checked in NewWriter
		return zw
	}})
	return p.(*sync.Pool).Get().(*gzip.Writer)
}

func putGzip(level int, zw *gzip.Writer) {
	if p, ok := gzipPools.Load(level); ok {
		p.(*sync.Pool).Put(zw)
	}
}

// compress writes the record as one gzip member to dst.
func (b *Builder) compress(dst io.Writer, warcinfoID string, level int) error {
	if b.store {
		return b.writeStored(dst, warcinfoID)
	}
	if b.spool.size < smallBlock {
		level = gzip.HuffmanOnly
	}
	zw := getGzip(level)
	defer putGzip(level, zw)
	return b.writeMember(zw, dst, warcinfoID)
}

// smallBlock is the block size under which records are Huffman-coded
// only, whatever the level: a crawl writes one request record per URL (and
// revisits), a few hundred bytes each, where string matching finds little
// and its per-member set-up costs most of the time. On a 550-byte request
// (a 1 KB record) Huffman-only writes 643 bytes against 479 at BestSpeed
// and 470 at level 5 — about 0.5% more WARC bytes on a crawl of images —
// for a third less CPU than BestSpeed, measured by BenchmarkSmallRecords.
const smallBlock = 4 << 10

// writeStored writes the record as a gzip member of stored blocks.
func (b *Builder) writeStored(dst io.Writer, warcinfoID string) error {
	if b.spool.file == nil {
		h := b.header(warcinfoID)
		defer putHeader(h)
		if m, ok := dst.(*bytes.Buffer); ok {
			m.Grow(storedMemberSize(h.Len() + len(b.spool.mem) + 4))
		}
		return writeStoredSlices(dst, h.Bytes(), b.spool.mem, []byte("\r\n\r\n"))
	}
	body, err := b.spool.Reader()
	if err != nil {
		return err
	}
	h := b.header(warcinfoID)
	defer putHeader(h)
	return writeStoredMember(dst, io.MultiReader(bytes.NewReader(h.Bytes()), body, strings.NewReader("\r\n\r\n")))
}

// writeMember writes the record through zw, reset onto dst.
func (b *Builder) writeMember(zw *gzip.Writer, dst io.Writer, warcinfoID string) error {
	body, err := b.spool.Reader()
	if err != nil {
		return err
	}
	zw.Reset(dst)
	h := b.header(warcinfoID)
	_, err = zw.Write(h.Bytes())
	putHeader(h)
	if err != nil {
		return err
	}
	buf := copyBuffers.Get().(*[]byte)
	_, err = io.CopyBuffer(zw, body, *buf)
	copyBuffers.Put(buf)
	if err != nil {
		return err
	}
	if _, err := zw.Write([]byte("\r\n\r\n")); err != nil {
		return err
	}
	return zw.Close()
}

// maxQueuedMember is the largest member handed to the file writer; a
// larger one is written under the lock, which bounds the memory queued to
// fileQueue such members.
const (
	maxQueuedMember = 1 << 20
	fileQueue       = 16
)

// fileWriter appends members to one file from its own goroutine, so the
// writer lock is held only to give a record its place, not through the
// write system call (which the kernel may slow down to the disk's pace).
// Members are written in the order they are queued.
type fileWriter struct {
	jobs chan fileJob
	done chan struct{}
	err  atomic.Pointer[error] // the first write error; later members are dropped
}

type fileJob struct {
	member  *bytes.Buffer
	barrier chan error // flush the buffer, then report
}

func startFileWriter(buf *bufio.Writer, fileHash hash.Hash) *fileWriter {
	fw := &fileWriter{jobs: make(chan fileJob, fileQueue), done: make(chan struct{})}
	go func() {
		defer close(fw.done)
		dst := io.MultiWriter(buf, fileHash)
		for j := range fw.jobs {
			if j.member != nil {
				if fw.failed() == nil {
					if _, err := j.member.WriteTo(dst); err != nil {
						fw.err.Store(&err)
					}
				}
				memberPool.Put(j.member)
			}
			if j.barrier != nil {
				if fw.failed() == nil {
					if err := buf.Flush(); err != nil {
						fw.err.Store(&err)
					}
				}
				j.barrier <- fw.failed()
			}
		}
	}()
	return fw
}

func (fw *fileWriter) failed() error {
	if p := fw.err.Load(); p != nil {
		return *p
	}
	return nil
}

// barrier queues a flush and returns the channel that reports it done.
func (fw *fileWriter) barrier() chan error {
	c := make(chan error, 1)
	fw.jobs <- fileJob{barrier: c}
	return c
}

// stop writes out what is queued and ends the goroutine.
func (fw *fileWriter) stop() error {
	err := <-fw.barrier()
	close(fw.jobs)
	<-fw.done
	return err
}

// queueMember gives a compressed member its place in the current file and
// hands it to the file writer. Called with w.mu held.
func (w *Writer) queueMember(m *bytes.Buffer) error {
	if err := w.out.failed(); err != nil {
		memberPool.Put(m)
		return fmt.Errorf("warc: writing %s: %w", w.name, err)
	}
	w.size += int64(m.Len())
	w.out.jobs <- fileJob{member: m}
	return nil
}

// writeRecord compresses and writes one gzip member under the lock, once
// the file writer has written what was queued before it. On error the file
// may end in a partial member; readers and repair cut it back to the last
// whole record.
func (w *Writer) writeRecord(b *Builder) error {
	if w.out != nil {
		if err := <-w.out.barrier(); err != nil {
			return fmt.Errorf("warc: writing %s: %w", w.name, err)
		}
	}
	cw := &countWriter{w: io.MultiWriter(w.buf, w.fileHash)}
	var err error
	if b.store {
		err = b.writeStored(cw, w.warcinfoID)
	} else {
		err = b.writeMember(w.gz, cw, w.warcinfoID)
	}
	w.size += cw.n
	if err != nil {
		return fmt.Errorf("warc: writing %s: %w", w.name, err)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// openFile creates the next file, exclusively, and writes its warcinfo.
func (w *Writer) openFile() error {
	now := w.opts.Now().UTC()
	existing, _ := filepath.Glob(filepath.Join(w.opts.Dir, "*.warc*"))
	serial := len(existing) + 1
	for tries := 0; ; tries++ {
		name := fmt.Sprintf("%s-%s-%05d-%s.warc.gz", w.opts.Prefix, now.Format("20060102150405"), serial, w.worker)
		f, err := os.OpenFile(filepath.Join(w.opts.Dir, name+".open"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, os.ErrExist) && tries < 1000 {
			serial++
			continue
		}
		if err != nil {
			return fmt.Errorf("warc: %w", err)
		}
		w.f, w.name, w.size, w.warcinfoID = f, name, 0, ""
		w.fileHash = sha256.New()
		w.buf = bufio.NewWriterSize(f, 256<<10)
		break
	}
	info := w.NewRecord(TypeWarcinfo, now)
	info.AddField("WARC-Filename", w.name)
	info.AddField("Content-Type", "application/warc-fields")
	for _, f := range w.opts.Info {
		fmt.Fprintf(info, "%s: %s\r\n", f.Name, sanitizeValue(f.Value))
	}
	if w.opts.Worker != "" {
		fmt.Fprintf(info, "amber-worker: %s\r\n", w.opts.Worker)
	}
	defer info.Discard()
	if err := w.writeRecord(info); err != nil {
		return err
	}
	w.warcinfoID = info.id
	w.files = append(w.files, w.name)
	w.out = startFileWriter(w.buf, w.fileHash)
	return nil
}

// closeFile flushes, syncs and closes the current file, renames it to its
// final name and syncs the directory, so the rename survives a crash.
func (w *Writer) closeFile() error {
	if w.f == nil {
		return nil
	}
	f, buf, name := w.f, w.buf, w.name
	var queued error
	if w.out != nil {
		queued = w.out.stop()
		w.out = nil
	}
	w.f, w.buf = nil, nil
	err := errors.Join(queued, buf.Flush(), f.Sync(), f.Close())
	if err != nil {
		return fmt.Errorf("warc: closing %s: %w", name, err)
	}
	final := filepath.Join(w.opts.Dir, name)
	if err := os.Rename(final+".open", final); err != nil {
		return fmt.Errorf("warc: %w", err)
	}
	if w.hashes == nil {
		w.hashes = map[string]string{}
	}
	w.hashes[name] = "sha256:" + hex.EncodeToString(w.fileHash.Sum(nil))
	return syncDir(w.opts.Dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Position is a point in the sequence of files a Writer writes.
type Position struct {
	File   string // base name, without .open
	Offset int64
}

// Sync makes everything written so far durable: it flushes the current
// file and fsyncs it. It returns the position up to which records are
// durable.
func (w *Writer) Sync() (Position, error) {
	// The buffer is flushed under the lock; the fsync runs outside it, so
	// records go on being written while the disk catches up. What was
	// flushed before the fsync is durable when it returns.
	w.mu.Lock()
	if w.f == nil {
		defer w.mu.Unlock()
		return Position{File: w.lastClosed()}, nil
	}
	f, pos := w.f, Position{File: w.name, Offset: w.size}
	flushed := w.out.barrier() // after every record queued so far
	w.mu.Unlock()
	if err := <-flushed; err != nil {
		return Position{}, fmt.Errorf("warc: %s: %w", pos.File, err)
	}
	if err := f.Sync(); err != nil {
		if errors.Is(err, os.ErrClosed) {
			return pos, nil // rotated meanwhile: closing the file synced it
		}
		return Position{}, fmt.Errorf("warc: %s: %w", pos.File, err)
	}
	return pos, nil
}

func (w *Writer) lastClosed() string {
	if len(w.files) == 0 {
		return ""
	}
	return w.files[len(w.files)-1]
}

// Close closes and renames the current file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	return w.closeFile()
}

// Index returns the CDXJ lines of the records written so far, in the order
// written: every response, revisit, resource and metadata record.
func (w *Writer) Index() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.index...)
}

// FileHashes returns the sha256 ("sha256:<hex>") of each closed file,
// computed from the bytes as they were written.
func (w *Writer) FileHashes() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]string, len(w.hashes))
	for k, v := range w.hashes {
		out[k] = v
	}
	return out
}

// Files returns the base names of the files written so far, sorted.
func (w *Writer) Files() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]string(nil), w.files...)
	sort.Strings(out)
	return out
}

// spool holds a block in memory up to limit bytes, then in a temporary
// file, so a record of any size costs bounded memory.
type spool struct {
	limit int
	dir   string
	mem   []byte
	file  *os.File
	size  int64
}

// spoolPool recycles spool buffers, which would otherwise be most of what
// the garbage collector sees.
var spoolPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// maxPooled is the largest spool buffer worth keeping for reuse.
const maxPooled = 1 << 20

func (s *spool) Write(p []byte) (int, error) {
	if s.file == nil && len(s.mem)+len(p) <= s.limit {
		if s.mem == nil {
			s.mem = (*spoolPool.Get().(*[]byte))[:0]
		}
		s.mem = append(s.mem, p...)
		s.size += int64(len(p))
		return len(p), nil
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, ".amber-spool-*")
		if err != nil {
			return 0, fmt.Errorf("warc: spool: %w", err)
		}
		s.file = f
		if _, err := f.Write(s.mem); err != nil {
			return 0, fmt.Errorf("warc: spool: %w", err)
		}
		s.recycle()
	}
	n, err := s.file.Write(p)
	s.size += int64(n)
	if err != nil {
		err = fmt.Errorf("warc: spool: %w", err)
	}
	return n, err
}

// Reader returns the spooled bytes from the start.
func (s *spool) Reader() (io.Reader, error) {
	if s.file == nil {
		return bytes.NewReader(s.mem), nil
	}
	return io.NewSectionReader(s.file, 0, s.size), nil
}

// head returns up to n bytes from the start of the spool.
func (s *spool) head(n int) []byte {
	if s.file == nil {
		return s.mem[:min(n, len(s.mem))]
	}
	buf := make([]byte, min(int64(n), s.size))
	k, _ := s.file.ReadAt(buf, 0)
	return buf[:k]
}

// recycle gives the memory buffer back to the pool.
func (s *spool) recycle() {
	if s.mem != nil && cap(s.mem) <= maxPooled {
		m := s.mem[:0]
		spoolPool.Put(&m)
	}
	s.mem = nil
}

// Close frees the spool and removes its file.
func (s *spool) Close() error {
	s.recycle()
	if s.file == nil {
		return nil
	}
	f := s.file
	s.file = nil
	return errors.Join(f.Close(), os.Remove(f.Name()))
}
