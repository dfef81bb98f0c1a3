package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// printer is where a command's output goes; commands get it from their
// options, never from a global. The text printer writes what amber always
// printed; the JSON printer (--json) keeps stdout for the one summary object
// the command ends with and prints everything else as the text printer does,
// so that stderr is the same with or without --json (what cron mails).
type printer interface {
	// E prints a warning or a failure on stderr, at every level: these are
	// the "errors" --quiet keeps.
	E(format string, args ...any)
	// P prints a note for the person watching (a resumed crawl) on stderr;
	// not with --quiet.
	P(format string, args ...any)
	// V prints details on stdout, only with --verbose and never with --json.
	V(format string, args ...any)
	// Progress is the terminal a live progress line may be drawn on, or nil:
	// not with --quiet or --json, nor when stderr is not a terminal.
	Progress() io.Writer
	// S prints the summary a command ends with: its text (not with --quiet)
	// or, with --json, the summary itself as one JSON object (even with
	// --quiet: it was asked for).
	S(s summary) error
}

// summary is what a command ends with: a value whose JSON form is the
// --json output and whose text form is what amber prints without --json.
type summary interface {
	printText(w io.Writer)
}

// verbosity is how much the text printer says.
type verbosity int

const (
	quietLevel   verbosity = iota // errors only (--quiet)
	normalLevel                   // notes, progress on a terminal, the summary
	verboseLevel                  // and details (--verbose)
)

// newPrinter returns the printer for a command's --json and --quiet (and
// --verbose) flags.
func newPrinter(g *globalOptions, jsonOut bool, level verbosity) printer {
	term := g.rawStderr
	if term == nil {
		term = g.stderr
	}
	t := &textPrinter{stdout: g.stdout, stderr: g.stderr, term: term, level: level}
	if jsonOut {
		return &jsonPrinter{textPrinter: t}
	}
	return t
}

// levelOf is the verbosity that --quiet and --verbose ask for.
func levelOf(quiet, verbose bool) verbosity {
	switch {
	case quiet:
		return quietLevel
	case verbose:
		return verboseLevel
	}
	return normalLevel
}

type textPrinter struct {
	stdout io.Writer
	stderr io.Writer // a lineWriter: one safe line a Write
	term   io.Writer // the raw stderr, for the live line
	level  verbosity
}

func (p *textPrinter) E(format string, args ...any) {
	fmt.Fprintf(p.stderr, format+"\n", args...)
}

func (p *textPrinter) P(format string, args ...any) {
	if p.level >= normalLevel {
		fmt.Fprintf(p.stderr, format+"\n", args...)
	}
}

func (p *textPrinter) V(format string, args ...any) {
	if p.level >= verboseLevel {
		fmt.Fprintf(p.stdout, format+"\n", args...)
	}
}

func (p *textPrinter) Progress() io.Writer {
	if p.level >= normalLevel && isTerminal(p.term) {
		return p.term
	}
	return nil
}

func (p *textPrinter) S(s summary) error {
	if p.level >= normalLevel {
		s.printText(p.stdout)
	}
	return nil
}

// jsonPrinter is the text printer with stdout kept for the summary object.
type jsonPrinter struct {
	*textPrinter
}

func (p *jsonPrinter) V(string, ...any)    {}
func (p *jsonPrinter) Progress() io.Writer { return nil }
func (p *jsonPrinter) S(s summary) error   { return writeJSON(p.stdout, s) }

// writeJSON writes v as one indented JSON value, as every --json output of
// amber is written. HTML characters are kept as they are: record ids are
// <urn:uuid:...> and URLs hold &.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// exitName names an exit status in JSON summaries, beside the number.
func exitName(code int) string {
	switch code {
	case exitOK:
		return "ok"
	case exitDamage:
		return "failed"
	case exitUsage:
		return "usage"
	case exitPartial:
		return "partial"
	case exitLocked:
		return "locked"
	case exitInterrupted:
		return "interrupted"
	}
	return fmt.Sprintf("exit %d", code)
}
