// Package otherreaders reads WARC files with two readers that share no
// code with amber, for the interoperability tests: the Internet Archive's
// gowarc and github.com/slyrz/warc (the reader the design card names).
// Each returns every record of a file, in order, with its header and its
// block read whole.
package otherreaders

import (
	"errors"
	"fmt"
	"io"
	"os"

	iawarc "github.com/internetarchive/gowarc"
	slyrz "github.com/slyrz/warc"
)

// Record is one record as another reader decoded it.
type Record struct {
	Offset int64 // of the record in the file (gowarc only; -1 from slyrz/warc)
	Header func(name string) string
	Block  []byte
}

// Gowarc reads path with the Internet Archive's gowarc.
func Gowarc(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := iawarc.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("gowarc: %s: %w", path, err)
	}
	var out []Record
	for {
		rec, err := r.ReadRecord()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("gowarc: %s: record %d: %w", path, len(out), err)
		}
		block, err := io.ReadAll(rec.Content)
		rec.Content.Close()
		if err != nil {
			return out, fmt.Errorf("gowarc: %s: record %d: %w", path, len(out), err)
		}
		out = append(out, Record{Offset: rec.Offset, Header: rec.Header.Get, Block: block})
	}
}

// Slyrz reads path with slyrz/warc. It reads the gzip members as one
// stream, so it also checks that they join into a valid multi-member
// gzip file.
func Slyrz(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := slyrz.NewReaderMode(f, slyrz.SequentialMode)
	if err != nil {
		return nil, fmt.Errorf("slyrz/warc: %s: %w", path, err)
	}
	defer r.Close()
	var out []Record
	for {
		rec, err := r.ReadRecord()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("slyrz/warc: %s: record %d: %w", path, len(out), err)
		}
		block, err := io.ReadAll(rec.Content)
		if err != nil {
			return out, fmt.Errorf("slyrz/warc: %s: record %d: %w", path, len(out), err)
		}
		out = append(out, Record{Offset: -1, Header: rec.Header.Get, Block: block})
	}
}
