package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/amber-archiver/amber/verify"
)

// verifyOptions are the flags of amber verify.
type verifyOptions struct {
	json   bool // one JSON report on stdout instead of text
	quiet  bool // print errors only (and warnings with --strict)
	strict bool // warnings count as damage
	jobs   int  // files verified at once; 0 means one per CPU

	printer printer
}

func newVerifyCommand(g *globalOptions) *cobra.Command {
	var opts verifyOptions
	cmd := &cobra.Command{
		Use:   "verify PATH...",
		Short: "Check that WARC files and collections are intact",
		Long: `Verify re-reads every record of every WARC file and reports, with file and
offset, anything that does not match: WARC and gzip framing (version line,
header syntax, mandatory fields, Content-Length against the block, the CRLF
CRLF after it, gzip CRC and truncation, bytes after the last record), the
block digest of every record and the payload digest of every record that
has one. A revisit's payload digest is looked up among the responses of all
the files verified together: give the collections of all the workers of
one crawl at once (amber verify A B C), so that a revisit in one that
refers to a record in another is found.

A PATH is a collection directory, a WACZ package (.wacz), a WARC file
(.warc, .warc.gz, .warc.gz.open) or a directory of WARC files; not a FIFO
or a device, which is a usage error. For a collection, verify also
checks datapackage.json (every file it lists exists with that size and
sha256; no file in archive/ or indexes/ is missing from it) and the CDXJ
index (every line points at a record at that offset and length with that
URL, timestamp and digest; every response and revisit has a line). A WACZ
is read from the zip without unpacking it: its entries (names, CRC-32),
every entry against datapackage.json, datapackage.json against
datapackage-digest.json, then its WARC files and index as in a collection;
findings name an entry FILE.wacz!archive/x.warc.gz@OFFSET. An ARC file
(.arc, .arc.gz, told by its content) carries no digests: its framing is
checked (header lines, lengths, gzip members), and one warning says so.

Findings go to stderr, one a line:

  FILE@OFFSET RECORD-ID TARGET-URI: MESSAGE

warnings prefixed with "warning: ". A summary line per file and a total
(files, records, bytes, errors, warnings, MB/s) go to stdout; with --json,
stdout holds one JSON report instead and stderr is the same. Warnings are
deviations that lose no data, such as a payload digest taken over chunked
bytes (as wget writes it), several records in one gzip member, a digest
algorithm amber does not know, or a revisit whose original is not among the
files verified. Past a damaged record, reading goes on at the next gzip
member, or in an uncompressed WARC or ARC file at the next record header
(the message says where); it stops only where a gzip stream cannot be
followed, the message says how far it got, and amber repair salvages the
intact records. A file that is neither WARC, ARC nor WACZ (text, an HTML
page, an empty file, a zip without datapackage.json or WARC files) is one
line, "amber: FILE: not a WARC, ARC or WACZ file (starts with ...)", and
counts as damage.

Files are read in parallel, one per job, each in a single pass; the output
is in a fixed order (paths in the order given, files by name).

EXIT STATUS
  0  no damage found (warnings allowed, unless --strict)
  1  damage found (or warnings, with --strict)
  2  usage error: bad flag, missing or nonexistent PATH, or one that is
     neither a regular file nor a directory (a FIFO, a device)
  130  interrupted`,
		Args: argsAtLeast(1, "PATH (a collection, a WARC file or a directory of WARC files)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.printer = newPrinter(g, opts.json, levelOf(opts.quiet, false))
			return runVerify(cmd.Context(), opts, args)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.json, "json", false, "print one JSON report on stdout instead of text")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "print errors only: no warnings (unless --strict), no summary; for cron")
	f.BoolVar(&opts.strict, "strict", false, "count warnings as damage (exit status 1)")
	f.IntVarP(&opts.jobs, "jobs", "j", 0, "files verified at once (default: number of CPUs)")
	return cmd
}

func runVerify(ctx context.Context, opts verifyOptions, paths []string) error {
	if opts.jobs < 0 {
		return usageError("--jobs must be at least 1, not %d", opts.jobs)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := verify.Paths(ctx, paths, verify.Options{Jobs: opts.jobs})
	var pe *verify.PathError
	if errors.As(err, &pe) {
		return usageError("%s: %v", pe.Path, pe.Err)
	}
	if err != nil {
		return err
	}
	p := opts.printer
	printVerifyFindings(p, rep, !opts.quiet || opts.strict)
	if err := p.S(verifySummary{rep}); err != nil {
		return err
	}
	if rep.Damaged(opts.strict) {
		return &exitError{code: exitDamage}
	}
	return nil
}

// verifySummary is the report verify ends with; its JSON form is the
// report's.
type verifySummary struct{ *verify.Report }

// printVerifyFindings prints each finding as one line on stderr: the errors,
// and the warnings if showWarnings.
func printVerifyFindings(p printer, rep *verify.Report, showWarnings bool) {
	for _, fs := range rep.Files {
		for _, f := range fs.Findings {
			if f.Severity == verify.Warning && !showWarnings {
				continue
			}
			prefix := ""
			if f.Severity == verify.Warning {
				prefix = "warning: "
			}
			if fs.Kind == verify.KindNotArchive {
				prefix = "amber: " // one line, as for a usage error
			}
			where := f.File
			if f.Offset >= 0 {
				where += fmt.Sprintf("@%d", f.Offset)
			}
			if f.RecordID != "" {
				where += " " + f.RecordID
			}
			if f.TargetURI != "" {
				where += " " + f.TargetURI
			}
			p.E("%s%s: %s", prefix, escapeControls(where), escapeControls(f.Message))
		}
	}
}

// printText prints a line per file and the total.
func (s verifySummary) printText(stdout io.Writer) {
	rep := s.Report
	verified := 0
	for _, fs := range rep.Files {
		if fs.Kind == verify.KindNotArchive {
			continue // said in its one line
		}
		verified++
		count := ""
		switch fs.Kind {
		case "warc", "arc":
			count = verifyPlural(fs.Records, "record") + ", "
		case "index":
			count = verifyPlural(fs.Lines, "line") + ", "
		}
		size := formatBytes(fs.Bytes)
		switch fs.Kind {
		case "manifest":
			size = "manifest"
		case "wacz":
			size = "WACZ package (zip, datapackage.json)"
		}
		if fs.Bytes >= 1e6 && fs.Duration > 0 {
			size += fmt.Sprintf(" (%.1f MB/s)", fs.MBPerSecond())
		}
		fmt.Fprintf(stdout, "%s: %s%s, %s, %s\n", fs.File, count, size,
			verifyPlural(fs.Errors, "error"), verifyPlural(fs.Warnings, "warning"))
	}
	if verified == 0 {
		return
	}
	fmt.Fprintf(stdout, "verified %s, %s, %s in %.2fs (%.1f MB/s): %s, %s\n",
		verifyPlural(len(rep.Files), "file"), verifyPlural(rep.Records, "record"), formatBytes(rep.Bytes),
		rep.Duration.Seconds(), rep.MBPerSecond(), verifyPlural(rep.Errors, "error"), verifyPlural(rep.Warnings, "warning"))
}

func verifyPlural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// escapeControls writes control characters (a CR in a crafted URI could
// forge or hide a line) as \xNN, so that a finding stays one line.
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			fmt.Fprintf(&b, "\\x%02x", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
