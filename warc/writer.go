package warc

import (
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	gowarc "github.com/nlnwa/gowarc/v3"
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

var recordTypes = map[string]gowarc.RecordType{
	TypeWarcinfo: gowarc.Warcinfo,
	TypeRequest:  gowarc.Request,
	TypeResponse: gowarc.Response,
	TypeRevisit:  gowarc.Revisit,
	TypeMetadata: gowarc.Metadata,
	TypeResource: gowarc.Resource,
}

// Field is one WARC header field, kept in order.
type Field struct{ Name, Value string }

// WriterOptions configure a Writer. Zero values mean the documented default.
type WriterOptions struct {
	Dir             string           // directory the WARC files go to (required)
	Prefix          string           // file name prefix; default "amber"
	MaxFileSize     int64            // rotate after this many bytes on disk; default 1 GiB
	DigestAlgorithm string           // "sha1" (default, base32) or "sha256"/"sha512" (hex)
	SpoolDir        string           // where blocks above MemoryLimit spool; default os.TempDir
	MemoryLimit     int              // bytes of a block kept in memory before spooling; default 4 MiB
	Info            []Field          // warcinfo fields (software, format, settings, ...)
	Now             func() time.Time // clock, for tests; default time.Now
}

// Written tells where a record landed.
type Written struct {
	File   string // base name of the WARC file, without the .open suffix
	Offset int64  // offset of the record's gzip member in that file
	ID     string // WARC-Record-ID
}

// Writer writes records as WARC/1.1, one gzip member per record, into files
// named PREFIX-YYYYMMDDhhmmss-SERIAL-HOST.warc.gz. A file is written as
// ….warc.gz.open and renamed when it is closed (on rotation or Close), so a
// name without .open is a complete file that is never written again.
//
// Writer is safe for concurrent use; records passed to one Write call are
// written contiguously in the same file.
type Writer struct {
	opts WriterOptions
	fw   *gowarc.WarcFileWriter

	mu     sync.Mutex
	files  map[string]bool // every file name written to
	closed bool
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
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// Serial numbers continue after the files already in the directory, so
	// two runs in the same second never pick the same name.
	existing, _ := filepath.Glob(filepath.Join(opts.Dir, "*.warc*"))
	w := &Writer{opts: opts, files: map[string]bool{}}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	names := &gowarc.PatternNameGenerator{
		Directory: opts.Dir,
		Prefix:    opts.Prefix,
		Serial:    int32(len(existing)),
		Pattern:   "%{prefix}s-%{ts}s-%05{serial}d-%{h}s.%{ext}s",
		Params:    map[string]any{"h": sanitizeHost(host)},
	}
	w.fw = gowarc.NewWarcFileWriter(
		gowarc.WithFileNameGenerator(names),
		gowarc.WithMaxFileSize(opts.MaxFileSize),
		gowarc.WithCompression(true),
		gowarc.WithFlush(false),
		gowarc.WithRecordOptions(w.recordOptions()...),
		gowarc.WithWarcInfoFunc(w.fillWarcinfo),
	)
	return w, nil
}

func sanitizeHost(h string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, h)
}

func (w *Writer) recordOptions() []gowarc.WarcRecordOption {
	opts := []gowarc.WarcRecordOption{
		gowarc.WithVersion(gowarc.V1_1),
		// amber computes both digests itself while the bytes stream in:
		// gowarc's payload digest keeps chunk framing, which the WARC
		// standard excludes (see DESIGN.md).
		gowarc.WithNoValidation(),
		gowarc.WithBufferMaxMemBytes(int64(w.opts.MemoryLimit)),
	}
	if w.opts.SpoolDir != "" {
		opts = append(opts, gowarc.WithBufferTmpDir(w.opts.SpoolDir))
	}
	return opts
}

// fillWarcinfo completes the warcinfo record gowarc starts each file with.
func (w *Writer) fillWarcinfo(rb gowarc.WarcRecordBuilder) error {
	var body strings.Builder
	for _, f := range w.opts.Info {
		fmt.Fprintf(&body, "%s: %s\r\n", f.Name, f.Value)
	}
	b := &Builder{rb: rb, block: mustHash(w.opts.DigestAlgorithm), alg: w.opts.DigestAlgorithm}
	if _, err := b.Write([]byte(body.String())); err != nil {
		return err
	}
	rb.AddWarcHeader("WARC-Block-Digest", FormatDigest(b.alg, b.block.Sum(nil)))
	return nil
}

func mustHash(alg string) hash.Hash {
	h, err := NewHash(alg)
	if err != nil {
		panic(err) // the algorithm was checked in NewWriter
	}
	return h
}

// Builder accumulates one record. Its block is hashed as it is written and
// spools to disk beyond WriterOptions.MemoryLimit.
type Builder struct {
	rb      gowarc.WarcRecordBuilder
	block   hash.Hash
	alg     string
	payload string // WARC-Payload-Digest, if set
	id      string
}

// NewRecord starts a record of the given type with a fresh WARC-Record-ID
// and the given WARC-Date.
func (w *Writer) NewRecord(recordType string, date time.Time) *Builder {
	rb := gowarc.NewRecordBuilder(recordTypes[recordType], w.recordOptions()...)
	id := "<" + uuid.New().URN() + ">"
	if recordTypes[recordType] == 0 {
		rb.AddWarcHeader("WARC-Type", recordType)
	}
	rb.AddWarcHeader("WARC-Record-ID", id)
	rb.AddWarcHeader("WARC-Date", date.UTC().Format(DateFormat))
	return &Builder{rb: rb, block: mustHash(w.opts.DigestAlgorithm), alg: w.opts.DigestAlgorithm, id: id}
}

// ID returns the record's WARC-Record-ID, angle brackets included.
func (b *Builder) ID() string { return b.id }

// Algorithm returns the digest algorithm of the writer that made b.
func (b *Builder) Algorithm() string { return b.alg }

// AddField appends a header field.
func (b *Builder) AddField(name, value string) { b.rb.AddWarcHeader(name, value) }

// SetPayloadDigest records the payload digest, computed by the caller over
// the entity body with transfer encoding removed.
func (b *Builder) SetPayloadDigest(sum []byte) { b.payload = FormatDigest(b.alg, sum) }

// Write appends p to the record block.
func (b *Builder) Write(p []byte) (int, error) {
	b.block.Write(p)
	return b.rb.Write(p)
}

// Size is the number of block bytes written so far.
func (b *Builder) Size() int64 { return b.rb.Size() }

// Discard frees the builder's spool without writing it.
func (b *Builder) Discard() error { return b.rb.Close() }

// Write writes the records contiguously, in order, to the current file
// (rotating first if the file is full). Each builder is consumed.
func (w *Writer) Write(builders ...*Builder) ([]Written, error) {
	recs := make([]gowarc.WarcRecord, 0, len(builders))
	fail := func(err error) ([]Written, error) {
		for _, r := range recs {
			r.Close()
		}
		for _, b := range builders[len(recs):] {
			b.Discard()
		}
		return nil, err
	}
	for _, b := range builders {
		b.rb.AddWarcHeader("WARC-Block-Digest", FormatDigest(b.alg, b.block.Sum(nil)))
		if b.payload != "" {
			b.rb.AddWarcHeader("WARC-Payload-Digest", b.payload)
		}
		rec, _, err := b.rb.Build()
		if err != nil {
			return fail(fmt.Errorf("warc: build record: %w", err))
		}
		recs = append(recs, rec)
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return fail(errors.New("warc: writer is closed"))
	}
	w.mu.Unlock()
	res := w.fw.Write(recs...)
	if len(res) != len(recs) {
		return nil, errors.New("warc: writer is closed")
	}
	out := make([]Written, len(res))
	var errs []error
	w.mu.Lock()
	for i, r := range res {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
		out[i] = Written{File: r.FileName, Offset: r.FileOffset, ID: builders[i].id}
		if r.FileName != "" {
			w.files[r.FileName] = true
		}
	}
	w.mu.Unlock()
	if len(errs) > 0 {
		return out, fmt.Errorf("warc: write: %w", errors.Join(errs...))
	}
	return out, nil
}

// Close closes and renames the current file. Files lists what was written.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	return w.fw.Close()
}

// Algorithm returns the digest algorithm records are written with.
func (w *Writer) Algorithm() string { return w.opts.DigestAlgorithm }

// Files returns the base names of the files written so far, sorted.
func (w *Writer) Files() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.files))
	for f := range w.files {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}
