package warc

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// RepairResult describes what RepairOpen kept of a file.
type RepairResult struct {
	Path    string // the final name, without .open
	Records int    // complete records kept
	Kept    int64  // bytes kept
	Cut     int64  // bytes cut off the end: a record cut short by a crash
}

// RepairOpen finishes a WARC file left open by a crash (a ….warc.gz.open
// file): it keeps every record up to the last complete one, cuts off what
// follows (a record only partly written), fsyncs the file and renames it
// without the .open suffix. A record is complete when its gzip member ends
// intact (CRC and size checked) and its block is followed by CRLF CRLF.
func RepairOpen(path string) (RepairResult, error) {
	res := RepairResult{Path: strings.TrimSuffix(path, ".open")}
	if res.Path == path {
		return res, fmt.Errorf("warc: %s is not an .open file", path)
	}
	if err := CheckRegular(path); err != nil {
		return res, err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return res, err
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return res, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, err
	}
	if size > 0 {
		r, err := NewReader(f)
		if err != nil {
			return res, fmt.Errorf("warc: %s: %w", path, err)
		}
		for {
			rec, err := r.Next()
			if err == nil {
				if _, err = io.Copy(io.Discard, rec.Body); err == nil {
					err = r.Finish()
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				break // the damage starts at this record: keep what precedes it
			}
			res.Records++
			res.Kept = rec.Offset + rec.Length
		}
	}
	res.Cut = size - res.Kept
	if err := f.Truncate(res.Kept); err != nil {
		return res, err
	}
	if err := f.Sync(); err != nil {
		return res, err
	}
	if err := f.Close(); err != nil {
		return res, err
	}
	if res.Records == 0 {
		// Nothing worth keeping; not even a warcinfo record.
		return res, os.Remove(path)
	}
	if err := os.Rename(path, res.Path); err != nil {
		return res, err
	}
	return res, syncDir(dirOf(res.Path))
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, os.PathSeparator); i >= 0 {
		return p[:i]
	}
	return "."
}

// Dropped is a part of a file that Repair left out: a record, or a stretch
// of bytes that held no readable record.
type Dropped struct {
	Offset    int64  // where it starts in the original file
	Length    int64  // bytes of the original file it spans; 0 if unknown (a record sharing a gzip member)
	RecordID  string // WARC-Record-ID, for a record whose header could be read
	TargetURI string
	Reason    string
	// Padding marks zero bytes after the last record: nothing was lost.
	Padding bool

	inMember bool // damage inside a gzip member whose first records were kept: no length of its own
}

// RepairReport describes what Repair salvaged.
type RepairReport struct {
	Input  string
	Output string // "" when nothing could be salvaged and no file was written
	// Records is how many records were written; Bytes, the size of the
	// output.
	Records int
	Bytes   int64
	// Rewritten counts the records written into a gzip member of their own
	// because the original member held several records: the records are
	// the same bytes, the compression differs.
	Rewritten int
	Dropped   []Dropped // in file order
}

// Lost reports whether anything but zero padding was left out.
func (r *RepairReport) Lost() bool {
	for _, d := range r.Dropped {
		if !d.Padding {
			return true
		}
	}
	return false
}

// Repair salvages a damaged or truncated WARC file: it writes every complete
// record whose digests prove it intact from src to a new file dst, in file
// order, and never modifies src. It returns what it kept and dropped; the
// error is for what stops the repair itself (src unreadable, dst existing or
// unwritable), never for damage in src.
//
// A record is kept when its framing is complete, its header parses, its
// block digest matches (or, with none, its payload digest where the payload
// is the block or an HTTP entity) and, in a gzip file, its member passes the
// CRC-32 check, which is what covers the header: no digest does. A record of
// a member cut short by the end of the file is kept if complete, since a cut
// changes no byte before it. Records are copied byte for byte, gzip member
// and all; records that shared a member are written into one member each.
//
// Past damage that breaks the gzip stream or the framing, Repair looks for
// the next gzip member (or, in a plain file, the next version line) that
// holds a record, and goes on from there.
//
// If no record can be kept, no file is written and Output is "".
func Repair(ctx context.Context, src, dst string) (*RepairReport, error) {
	in, err := OpenFile(src)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(dst); err == nil {
		return nil, fmt.Errorf("warc: %s: %w", dst, fs.ErrExist)
	}
	// The temporary output is locked while this runs; what a killed
	// repair into dst left is removed here.
	tmp, err := CreateTemp(dst)
	if err != nil {
		return nil, err
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	rp := &repairer{in: in, size: fi.Size(), out: bufio.NewWriterSize(tmp, 256<<10),
		rep: &RepairReport{Input: src}, buf: make([]byte, 256<<10)}
	if err := rp.run(ctx); err != nil {
		return nil, err
	}
	if err := rp.out.Flush(); err != nil {
		return nil, err
	}
	if rp.rep.Records == 0 {
		return rp.rep, nil
	}
	if err := tmp.Sync(); err != nil {
		return nil, err
	}
	// A hard link, unlike a rename, never replaces a file that appeared
	// at dst meanwhile. It is made while the file is open (and locked).
	if err := os.Link(tmp.Name(), dst); err != nil {
		return nil, err
	}
	os.Remove(tmp.Name())
	err = tmp.Close()
	tmp = nil
	if err != nil {
		return nil, err
	}
	rp.rep.Output = dst
	return rp.rep, syncDir(filepath.Dir(dst))
}

// RepairName is the default output name of Repair for path: the name with
// ".repaired" before ".warc.gz" (or ".warc"), without a trailing ".open".
func RepairName(path string) string {
	p := strings.TrimSuffix(path, ".open")
	for _, ext := range []string{".warc.gz", ".warc"} {
		if strings.HasSuffix(p, ext) {
			return strings.TrimSuffix(p, ext) + ".repaired" + ext
		}
	}
	return p + ".repaired.warc.gz"
}

type repairer struct {
	in   *os.File
	size int64
	out  *bufio.Writer
	rep  *RepairReport
	buf  []byte
	zw   *gzip.Writer

	gzipped bool
	// The records read so far of a gzip member holding several records:
	// kept or dropped once the member has ended and its CRC is known.
	pending       []pendingRecord
	pendingMember int64
}

type pendingRecord struct {
	nth    int
	id     string
	uri    string
	reason string // why it must be dropped; "" to keep it
}

// run reads the file from the start, resynchronising after damage.
func (rp *repairer) run(ctx context.Context) error {
	pos := int64(0)
	probe := false
	var lost *Dropped // the damaged stretch being skipped
	for {
		r, err := newReaderAt(io.NewSectionReader(rp.in, pos, rp.size-pos), pos)
		if err != nil {
			return err
		}
		if pos == 0 {
			rp.gzipped = r.Compressed()
		}
		stop, read, err := rp.readFrom(ctx, r, probe)
		if err != nil {
			return err
		}
		if probe && !read {
			// A wrong guess: look further.
			if stop == nil {
				break
			}
			if pos = rp.scan(pos + 1); pos < 0 {
				break
			}
			continue
		}
		if lost != nil {
			if !lost.inMember {
				lost.Length = pos - lost.Offset
			}
			rp.drop(*lost)
			lost = nil
		}
		if stop == nil {
			break
		}
		lost, probe = stop, true
		if pos = rp.scan(stop.Offset + 1); pos < 0 {
			break
		}
	}
	if lost != nil {
		if !lost.inMember {
			lost.Length = rp.size - lost.Offset
		}
		rp.drop(*lost)
	}
	slices.SortStableFunc(rp.rep.Dropped, func(a, b Dropped) int { return cmp.Compare(a.Offset, b.Offset) })
	return nil
}

// readFrom copies the intact records r yields. It returns the damage that
// stopped r, if any, and whether r yielded a record. With probe, r starts at
// a guess of where a record may start: a first read that fails ends it at
// once, reporting nothing.
func (rp *repairer) readFrom(ctx context.Context, r *Reader, probe bool) (stop *Dropped, read bool, err error) {
	lastOffset, nth := int64(-1), 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, read, err
		}
		rec, err := r.Next()
		if err == io.EOF {
			return nil, read, nil
		}
		var fe *FormatError
		if err != nil && !errors.As(err, &fe) {
			return nil, read, err // an I/O error of the file
		}
		if err != nil {
			if probe && !read {
				return &Dropped{Offset: fe.Offset}, false, nil
			}
			if fe.Fatal {
				d, err := rp.fatal(fe, nil)
				return d, read, err
			}
			if len(rp.pending) > 0 && fe.Offset == rp.pendingMember {
				rp.dropPending("its gzip member is damaged after it: " + fe.Msg)
			}
			rp.drop(Dropped{Offset: fe.Offset, Length: r.InputOffset() - fe.Offset, Reason: fe.Msg})
			continue
		}
		read = true
		if rec.Offset == lastOffset {
			nth++
		} else {
			lastOffset, nth = rec.Offset, 0
		}
		d := NewRecordDigester(rec.Header)
		_, cerr := io.CopyBuffer(d, rec.Body, rp.buf)
		ferr := r.Finish()
		if ferr == nil && cerr != nil {
			ferr = cerr
		}
		if ferr != nil {
			if !errors.As(ferr, &fe) {
				return nil, read, ferr
			}
			if fe.Fatal {
				d, err := rp.fatal(fe, rec)
				return d, read, err
			}
			if len(rp.pending) > 0 && rec.Offset == rp.pendingMember {
				rp.dropPending("its gzip member is damaged after it: " + fe.Msg)
			}
			reason := fe.Msg
			if errors.Is(fe, gzip.ErrChecksum) && cerr == nil {
				// The block was read whole: say whether it is intact.
				if v := repairVerdict(rec, d); v != "" {
					reason += "; " + v
				} else {
					reason += "; the block digest matches, so the damage is in the WARC header, which no digest covers, or in the gzip trailer"
				}
			}
			rp.drop(Dropped{Offset: rec.Offset, Length: r.InputOffset() - rec.Offset,
				RecordID: rec.Header.Get("WARC-Record-ID"), TargetURI: rec.Header.Get("WARC-Target-URI"), Reason: reason})
			continue
		}
		reason := repairVerdict(rec, d)
		if !rec.SharedMember {
			if reason != "" {
				rp.drop(Dropped{Offset: rec.Offset, Length: rec.Length,
					RecordID: rec.Header.Get("WARC-Record-ID"), TargetURI: rec.Header.Get("WARC-Target-URI"), Reason: reason})
				continue
			}
			if err := rp.copyRaw(rec.Offset, rec.Length); err != nil {
				return nil, read, err
			}
			continue
		}
		if len(rp.pending) == 0 {
			rp.pendingMember = rec.Offset
		}
		rp.pending = append(rp.pending, pendingRecord{nth: nth, id: rec.Header.Get("WARC-Record-ID"),
			uri: rec.Header.Get("WARC-Target-URI"), reason: reason})
		if !r.inMember {
			// The member ended and gzip checked its CRC: the records are
			// what was written.
			if err := rp.flushPending(); err != nil {
				return nil, read, err
			}
		}
	}
}

// fatal settles the records of a member the reader cannot go on with, and
// returns the damaged stretch that starts there.
func (rp *repairer) fatal(fe *FormatError, rec *Record) (*Dropped, error) {
	d := &Dropped{Offset: fe.Offset, Reason: fe.Msg}
	if rec != nil && rec.Offset == fe.Offset {
		d.RecordID, d.TargetURI = rec.Header.Get("WARC-Record-ID"), rec.Header.Get("WARC-Target-URI")
	}
	if strings.Contains(fe.Msg, "zero padding") {
		d.Padding = true
	}
	if len(rp.pending) > 0 {
		if errors.Is(fe, io.ErrUnexpectedEOF) {
			// The file was cut: the records before the cut are whole, only
			// the member's CRC could not be checked.
			d.inMember = true
			d.Reason += " (the member's complete records before the cut are kept)"
			return d, rp.flushPending()
		}
		rp.dropPending("its gzip member is damaged after it: " + fe.Msg)
	}
	return d, nil
}

// repairVerdict says why a complete record cannot be kept, or "".
func repairVerdict(rec *Record, d *RecordDigester) string {
	for _, p := range rec.Problems {
		if !p.Deviation {
			return fmt.Sprintf("damaged header: line %d: %s", p.Line, p.Msg)
		}
	}
	for _, name := range []string{"WARC-Record-ID", "WARC-Type", "WARC-Date"} {
		if rec.Header.Get(name) == "" {
			return "damaged header: no " + name
		}
	}
	block := d.Block()
	switch block.Status {
	case DigestMatch:
		return ""
	case DigestMismatch:
		return fmt.Sprintf("block digest mismatch: recorded %s, computed %s", block.Recorded, block.Computed)
	case DigestMalformed:
		return fmt.Sprintf("WARC-Block-Digest %q is malformed, so the block cannot be proved intact", clip(block.Value))
	}
	// No block digest to go by: the payload digest, where the payload is
	// in the block.
	payload := d.Payload()
	switch payload.Status {
	case DigestMismatch:
		return fmt.Sprintf("payload digest mismatch: recorded %s, computed %s, and no block digest", payload.Recorded, payload.Computed)
	case DigestMalformed:
		return fmt.Sprintf("WARC-Payload-Digest %q is malformed, and there is no block digest", clip(payload.Value))
	}
	return ""
}

func (rp *repairer) drop(d Dropped) { rp.rep.Dropped = append(rp.rep.Dropped, d) }

// copyRaw copies bytes of the original file to the output.
func (rp *repairer) copyRaw(off, n int64) error {
	w, err := io.CopyBuffer(rp.out, io.NewSectionReader(rp.in, off, n), rp.buf)
	rp.rep.Bytes += w
	if err != nil {
		return err
	}
	rp.rep.Records++
	return nil
}

func (rp *repairer) dropPending(reason string) {
	for _, p := range rp.pending {
		why := reason
		if p.reason != "" {
			why = p.reason
		}
		rp.drop(Dropped{Offset: rp.pendingMember, RecordID: p.id, TargetURI: p.uri,
			Reason: fmt.Sprintf("%s (record %d of the gzip member at offset %d)", why, p.nth+1, rp.pendingMember)})
	}
	rp.pending = rp.pending[:0]
}

// flushPending writes the kept records of the member read last, each into
// a gzip member of its own, reading the member again.
func (rp *repairer) flushPending() error {
	pending := rp.pending
	rp.pending = nil
	last := pending[len(pending)-1].nth
	r, err := newReaderAt(io.NewSectionReader(rp.in, rp.pendingMember, rp.size-rp.pendingMember), rp.pendingMember)
	if err != nil {
		return err
	}
	r.keepRaw = true
	if rp.zw == nil {
		rp.zw = gzip.NewWriter(io.Discard)
	}
	j := 0
	for i := 0; i <= last; i++ {
		rec, err := r.Next()
		if err != nil {
			return fmt.Errorf("warc: reading the gzip member at offset %d again: %w", rp.pendingMember, err)
		}
		for j < len(pending) && pending[j].nth < i {
			j++
		}
		if j == len(pending) || pending[j].nth != i {
			continue
		}
		p := pending[j]
		if p.reason != "" {
			rp.drop(Dropped{Offset: rp.pendingMember, RecordID: p.id, TargetURI: p.uri,
				Reason: fmt.Sprintf("%s (record %d of the gzip member at offset %d)", p.reason, p.nth+1, rp.pendingMember)})
			continue
		}
		cw := &countWriter{w: rp.out}
		rp.zw.Reset(cw)
		rp.zw.Write(rec.rawHeader)
		if _, err := io.CopyBuffer(rp.zw, rec.Body, rp.buf); err != nil {
			return fmt.Errorf("warc: reading the gzip member at offset %d again: %w", rp.pendingMember, err)
		}
		rp.zw.Write([]byte("\r\n\r\n"))
		if err := rp.zw.Close(); err != nil {
			return err
		}
		rp.rep.Bytes += cw.n
		rp.rep.Records++
		rp.rep.Rewritten++
	}
	return nil
}

// scan returns the offset of the first place at or after from where a
// record may start: a gzip member header (1f 8b 08) in a gzip file, a line
// starting "WARC/1." in a plain one; or -1.
func (rp *repairer) scan(from int64) int64 {
	magic := []byte("WARC/1.")
	if rp.gzipped {
		magic = []byte{0x1f, 0x8b, 0x08}
	}
	const window = 1 << 20
	buf := make([]byte, window+len(magic))
	for off := from; off < rp.size; off += window {
		n, err := rp.in.ReadAt(buf, off)
		if n == 0 && err != nil {
			return -1
		}
		b := buf[:n]
		for i := 0; ; {
			j := bytes.Index(b[i:], magic)
			if j < 0 {
				break
			}
			at := off + int64(i+j)
			if rp.gzipped || at == 0 || rp.byteAt(at-1) == '\n' {
				return at
			}
			i += j + 1
		}
	}
	return -1
}

func (rp *repairer) byteAt(off int64) byte {
	var b [1]byte
	rp.in.ReadAt(b[:], off)
	return b[0]
}
