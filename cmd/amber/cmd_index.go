package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/amber-archiver/amber/warc"
)

// indexOptions are the flags of amber index.
type indexOptions struct {
	output string // write the index here instead of stdout
}

func newIndexCommand(g *globalOptions) *cobra.Command {
	var opts indexOptions
	cmd := &cobra.Command{
		Use:   "index FILE... [-o OUT.cdxj]",
		Short: "Rebuild a CDXJ index from WARC files",
		Long: `Index reads WARC files and writes the CDXJ index that pywb and ReplayWeb.page
read: one line per response, revisit, resource and metadata record, as
SURT TIMESTAMP {"url", "mime", "status", "digest", "length", "offset",
"filename"}, byte-sorted. It needs nothing but the WARC files, so it
rebuilds a lost or damaged indexes/index.cdxj:

  amber index coll/archive -o coll/indexes/index.cdxj

A FILE may be a WARC file (.warc, .warc.gz), a directory of WARC files, a
collection directory (its archive/ files), or a WACZ package (.wacz: the
WARC files in its archive/, read from the zip; lines name them as the
package's own index does, by base name). Several FILEs, e.g. the
collections of the workers of one crawl, give one index over all; since
lines name WARC files by base name, two WARC files of one name are a usage
error naming both. ARC files (.arc, .arc.gz, told
by their content) are indexed as pywb indexes them, with the SHA-1 of each
payload as its digest. The index goes to stdout
unless -o is given; -o writes it atomically.

A damaged record is named on stderr (FILE@OFFSET) and skipped, and the
records after it are indexed: in a gzip file from the next gzip member, in
an uncompressed WARC or ARC file from the next record header. A file that
is neither WARC, ARC nor WACZ is one line on stderr.

EXIT STATUS
  0  every file was indexed
  1  a file is damaged or not an archive (every record that could be read
     is indexed)
  2  usage error: bad flag, missing or nonexistent FILE, one that is
     neither a regular file nor a directory (a FIFO, a device), or two
     WARC files of one name`,
		Args: argsAtLeast(1, "FILE (a WARC file, a directory of WARC files or a collection)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIndex(cmd.Context(), g, opts, args)
		},
	}
	cmd.Flags().StringVarP(&opts.output, "output", "o", "", "write the index to `FILE` instead of stdout")
	return cmd
}

func runIndex(ctx context.Context, g *globalOptions, opts indexOptions, args []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	files, err := warcFilesOf(args)
	if err != nil {
		return err
	}
	isWACZ := func(f string) bool { return strings.HasSuffix(strings.ToLower(f), ".wacz") || warc.IsZipFile(f) }
	var plain []string
	for _, f := range files {
		if !isWACZ(f) {
			plain = append(plain, f)
		}
	}
	if err := uniqueWARCNames(plain); err != nil {
		return err
	}
	owners := map[string]string{} // filename of the lines → the file indexed
	var lines []warc.CDXJLine
	var damaged error
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		index := warc.IndexWARC
		if isWACZ(f) {
			index = warc.IndexWACZ // the WARC files inside, read from the zip
		}
		ls, err := index(f)
		if err := claimFilenames(owners, f, ls); err != nil {
			return err
		}
		lines = append(lines, ls...)
		var na *warc.NotArchiveError
		var ee *warc.EntryError
		if errors.As(err, &na) && !errors.As(err, &ee) {
			fmt.Fprintf(g.stderr, "amber: %s: %s\n", f, na.Reason())
			damaged = &exitError{code: exitDamage}
			continue
		}
		if err != nil {
			errs := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			}
			for _, e := range errs {
				fmt.Fprintf(g.stderr, "amber: %s\n", indexDamage(f, e))
			}
			fmt.Fprintf(g.stderr, "amber: %s: damaged; indexed the %d records that could be read\n", f, len(ls))
			damaged = &exitError{code: exitDamage}
		}
	}
	warc.SortCDXJ(lines)
	write := func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 256<<10)
		last := ""
		for _, l := range lines {
			s := l.String()
			if s == last {
				continue // the same file given twice
			}
			last = s
			bw.WriteString(s)
			bw.WriteByte('\n')
		}
		return bw.Flush()
	}
	if opts.output == "" {
		err = write(g.stdout)
	} else {
		err = atomicWriteFile(opts.output, write)
	}
	if err != nil {
		return err
	}
	return damaged
}

// uniqueWARCNames is a usage error when two of the WARC files have one
// base name: the filename of index lines would not tell them apart.
func uniqueWARCNames(files []string) error {
	var clash *warc.NameClashError
	if err := warc.UniqueNames(files); errors.As(err, &clash) {
		return &exitError{code: exitUsage, err: nameClashMessage(clash)}
	} else if err != nil {
		return err
	}
	return nil
}

// claimFilenames records that the lines ls, from file, name their WARC
// files; a name another file's lines already use (a WARC file in two WACZ
// packages) is a usage error.
func claimFilenames(owners map[string]string, file string, ls []warc.CDXJLine) error {
	for _, l := range ls {
		owner := file
		if filepath.Base(file) != l.Filename {
			owner = file + "!" + warc.ArchiveDir + "/" + l.Filename // inside a WACZ
		}
		switch prev, ok := owners[l.Filename]; {
		case !ok:
			owners[l.Filename] = owner
		case prev != owner && !warc.SameFile(prev, owner):
			return &exitError{code: exitUsage, err: nameClashMessage(&warc.NameClashError{Name: l.Filename, First: prev, Second: owner})}
		}
	}
	return nil
}

// indexDamage says what damage of file IndexWARC met: FILE@OFFSET:
// MESSAGE, and whether the record was skipped.
func indexDamage(file string, err error) string {
	var ee *warc.EntryError
	if errors.As(err, &ee) {
		file += "!" + ee.Entry
	}
	var na *warc.NotArchiveError
	if errors.As(err, &na) {
		return file + ": " + na.Reason()
	}
	var fe *warc.FormatError
	if !errors.As(err, &fe) {
		return err.Error()
	}
	if fe.Fatal {
		return fmt.Sprintf("%s@%d: %s", file, fe.Offset, fe.Msg)
	}
	return fmt.Sprintf("%s@%d: %s (record skipped)", file, fe.Offset, fe.Msg)
}

// warcFilesOf expands the arguments of index and replay into WARC files:
// a file stands for itself, a collection for its archive/ files, any
// other directory for the WARC files in it. A path that does not exist,
// or a directory without WARC files, is a usage error.
func warcFilesOf(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usageError("%s: no such file or directory", a)
		}
		if err != nil {
			return nil, usageError("%v", err)
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				return nil, usageError("%s is %s, not a WARC file or a directory", a, warc.DescribeMode(fi.Mode()))
			}
			files = append(files, a)
			continue
		}
		dir := a
		if sub := filepath.Join(a, warc.ArchiveDir); isDirectory(sub) {
			dir = sub
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, usageError("%v", err)
		}
		n := len(files)
		for _, e := range entries {
			if name := e.Name(); e.Type().IsRegular() && (strings.HasSuffix(name, ".warc.gz") || strings.HasSuffix(name, ".warc") ||
				strings.HasSuffix(name, ".arc.gz") || strings.HasSuffix(name, ".arc")) {
				files = append(files, filepath.Join(dir, name))
			}
		}
		if len(files) == n {
			return nil, usageError("%s: no WARC files (*.warc.gz, *.warc, or ARC: *.arc.gz, *.arc) in it", dir)
		}
	}
	return files, nil
}

// refuseIrregular is a usage error for a path that exists and is neither a
// directory nor a regular file (a FIFO, a device): reading one may block
// or never end. It never opens the path.
func refuseIrregular(p string) error {
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() || fi.Mode().IsRegular() {
		return nil
	}
	return usageError("%s is %s, not a WARC file or a directory", p, warc.DescribeMode(fi.Mode()))
}

func isDirectory(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// atomicWriteFile writes p through a temporary file in the same directory
// that is renamed over p once complete, so p is never left half-written;
// the temporary file a killed run left is removed by the next
// (warc.CreateTemp).
func atomicWriteFile(p string, write func(io.Writer) error) error {
	tmp, err := warc.CreateTemp(p)
	if err != nil {
		return err
	}
	defer tmp.Close()
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p) // while open: still locked
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return tmp.Close()
}
