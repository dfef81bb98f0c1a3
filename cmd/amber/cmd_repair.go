package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/amber-archiver/amber/warc"
)

// repairOptions are the flags of amber repair.
type repairOptions struct {
	output string // the repaired file; default warc.RepairName(FILE)
	json   bool   // one JSON report on stdout instead of text
}

func newRepairCommand(g *globalOptions) *cobra.Command {
	var opts repairOptions
	cmd := &cobra.Command{
		Use:   "repair FILE",
		Short: "Salvage the intact records of a damaged WARC file into a new file",
		Long: `Repair reads a damaged or truncated WARC file and writes every record that
is complete and proved intact into a new file, in order. The original file
is never modified.

A record is kept when its framing is complete, its header parses, its block
digest matches (with no block digest: its payload digest) and, in a gzip
file, its gzip member passes its CRC check, which is what covers the header.
Kept records are copied byte for byte, gzip member and all; records that
shared one gzip member are written into a member each. Past damage that
breaks the gzip stream or the framing, repair looks for the next record and
goes on from there. Zero padding after the last record is left out and does
not count as a loss.

The new file is FILE with ".repaired" before ".warc.gz" (or -o OUT); repair
never overwrites an existing file. What was dropped goes to stderr, one a
line (FILE@OFFSET RECORD-ID TARGET-URI: why), and a summary to stdout. If
no record can be kept, no file is written.

Run amber verify on the new file before replacing anything with it; in a
collection, also replace the file's lines in indexes/index.cdxj and its
entry in datapackage.json.

EXIT STATUS
  0  nothing was dropped: the new file holds every record of FILE
  1  records (or bytes that were not zero padding) were dropped
  2  usage error: bad flag, FILE missing, unreadable or not a regular file
     (a FIFO, a device), OUT exists
  130  interrupted`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("want one FILE (a WARC file), not %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRepair(cmd.Context(), g, opts, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.output, "output", "o", "", "write the repaired file to `OUT` (default: FILE with .repaired before .warc.gz)")
	f.BoolVar(&opts.json, "json", false, "print one JSON report on stdout instead of text")
	return cmd
}

func runRepair(ctx context.Context, g *globalOptions, opts repairOptions, file string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	fi, err := os.Stat(file)
	switch {
	case err != nil:
		return usageError("%s: %v", file, errors.Unwrap(err))
	case fi.IsDir():
		return usageError("%s is a directory, not a WARC file", file)
	case !fi.Mode().IsRegular():
		return usageError("%s is %s, not a WARC file", file, warc.DescribeMode(fi.Mode()))
	}
	out := opts.output
	if out == "" {
		out = warc.RepairName(file)
	}
	rep, err := warc.Repair(ctx, file, out)
	switch {
	case errors.Is(err, fs.ErrExist):
		return usageError("%s exists; remove it or name another file with -o", out)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrNotExist):
		return usageError("%v", err)
	case err != nil:
		return err
	}
	if opts.json {
		if err := writeJSON(g.stdout, repairJSON(rep)); err != nil {
			return err
		}
	} else {
		printRepairReport(g.stdout, g.stderr, rep)
	}
	if rep.Lost() {
		return &exitError{code: exitDamage}
	}
	return nil
}

func printRepairReport(stdout, stderr io.Writer, rep *warc.RepairReport) {
	var records int
	var recordBytes, otherBytes, padding int64
	for _, d := range rep.Dropped {
		where := fmt.Sprintf("%s@%d", rep.Input, d.Offset)
		if d.RecordID != "" {
			where += " " + d.RecordID
			records++
		}
		if d.TargetURI != "" {
			where += " " + d.TargetURI
		}
		what := "dropped"
		switch {
		case d.Padding:
			what = "left out"
			padding += d.Length
		case d.RecordID != "":
			recordBytes += d.Length
		default:
			otherBytes += d.Length
		}
		span := ""
		if d.Length > 0 {
			span = fmt.Sprintf(" (%d bytes)", d.Length)
		}
		fmt.Fprintf(stderr, "%s%s: %s: %s\n", where, span, what, d.Reason)
	}
	var tail string
	switch {
	case rep.Lost():
		var parts []string
		if records > 0 {
			parts = append(parts, fmt.Sprintf("%s (%s)", verifyPlural(records, "damaged record"), formatBytes(recordBytes)))
		}
		if otherBytes > 0 {
			parts = append(parts, fmt.Sprintf("%s that held no readable record", formatBytes(otherBytes)))
		}
		tail = "dropped " + strings.Join(parts, " and ")
	case padding > 0:
		tail = fmt.Sprintf("nothing dropped but %s of zero padding", formatBytes(padding))
	default:
		tail = "nothing dropped"
	}
	if rep.Output == "" {
		fmt.Fprintf(stdout, "%s: no intact record to salvage, nothing written; %s\n", rep.Input, tail)
		return
	}
	rewritten := ""
	if rep.Rewritten > 0 {
		rewritten = fmt.Sprintf(" (%d of them rewritten into a gzip member each)", rep.Rewritten)
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %s%s; %s\n", rep.Output,
		verifyPlural(rep.Records, "record"), formatBytes(rep.Bytes), rewritten, tail)
}

// repairJSON is the JSON form of a repair report.
func repairJSON(rep *warc.RepairReport) any {
	type dropped struct {
		Offset    int64  `json:"offset"`
		Length    int64  `json:"length"`
		RecordID  string `json:"recordId,omitempty"`
		TargetURI string `json:"targetUri,omitempty"`
		Reason    string `json:"reason"`
		Padding   bool   `json:"padding,omitempty"`
	}
	out := struct {
		Input     string    `json:"input"`
		Output    string    `json:"output"`
		Records   int       `json:"records"`
		Bytes     int64     `json:"bytes"`
		Rewritten int       `json:"rewritten"`
		Dropped   []dropped `json:"dropped"`
		Lost      bool      `json:"lost"`
	}{rep.Input, rep.Output, rep.Records, rep.Bytes, rep.Rewritten, []dropped{}, rep.Lost()}
	for _, d := range rep.Dropped {
		out.Dropped = append(out.Dropped, dropped{d.Offset, d.Length, d.RecordID, d.TargetURI, d.Reason, d.Padding})
	}
	return out
}
