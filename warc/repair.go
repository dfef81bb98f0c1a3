package warc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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
