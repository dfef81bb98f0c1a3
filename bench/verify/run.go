package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// measurement is one command measured: the best wall time of its runs and
// the largest peak RSS.
type measurement struct {
	name    string
	cores   int
	files   []string
	bytes   int64
	wall    float64 // seconds, best of the runs
	rssMB   float64 // peak resident set, largest of the runs
	records string
	note    string
	err     error
}

func (m *measurement) mbps() float64 { return float64(m.bytes) / 1e6 / m.wall }

// runMain runs every measurement and prints the table.
func runMain(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	amber := fs.String("amber", "", "the amber `BINARY` to measure (required)")
	repeat := fs.Int("repeat", 3, "runs of each measurement; the best wall time counts")
	peers := fs.Bool("peers", true, "also measure nlnwa/gowarc and internetarchive/gowarc")
	fs.Parse(args)
	files := fs.Args()
	if *amber == "" || len(files) != 2 {
		return fmt.Errorf("usage: verifybench run -amber BIN FILE1 FILE2")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		return fmt.Errorf("/usr/bin/time is missing (Debian package time): %w", err)
	}
	// Read both files once, so that every run reads from the page cache.
	var sizes []int64
	for _, f := range files {
		n, err := readAll(f)
		if err != nil {
			return err
		}
		sizes = append(sizes, n)
	}

	one, two := files[:1], files
	ms := []*measurement{
		{name: "bare pipeline (gunzip + block sha1 + payload sha1)", cores: 1, files: one},
		{name: "amber verify --jobs 1", cores: 1, files: one},
		{name: "bare pipeline, 2 files one after the other", cores: 1, files: two},
		{name: "amber verify --jobs 2, 2 files", cores: 2, files: two},
	}
	if *peers {
		ms = append(ms,
			&measurement{name: "nlnwa/gowarc v3.1.0 (validating)", cores: 1, files: one},
			&measurement{name: "internetarchive/gowarc v0.8.96 (+ digest checks)", cores: 1, files: one})
	}
	argvs := make([][]string, len(ms))
	for k, m := range ms {
		for i, f := range files {
			for _, g := range m.files {
				if g == f {
					m.bytes += sizes[i]
				}
			}
		}
		switch {
		case strings.HasPrefix(m.name, "bare"):
			argvs[k] = append([]string{self, "bare"}, m.files...)
		case strings.HasPrefix(m.name, "amber"):
			argvs[k] = append([]string{*amber, "verify", "--jobs", strconv.Itoa(m.cores)}, m.files...)
		case strings.HasPrefix(m.name, "nlnwa"):
			argvs[k] = append([]string{self, "nlnwa"}, m.files...)
		default:
			argvs[k] = append([]string{self, "ia"}, m.files...)
		}
	}
	// Round after round of every measurement, so that a burst of load
	// from elsewhere on the machine does not hit one measurement's runs
	// only; the best run of each counts.
	for r := 0; r < *repeat; r++ {
		for k, m := range ms {
			if m.err != nil {
				continue
			}
			fmt.Fprintf(os.Stderr, "round %d of %d: %s\n", r+1, *repeat, m.name)
			if err := m.run(argvs[k]); err != nil {
				m.err = err
			}
		}
	}
	printTable(os.Stdout, ms, files, sizes)
	return nil
}

// readAll reads a file through, returning its size.
func readAll(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(io.Discard, f)
}

var rssRE = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)

// run runs argv once under /usr/bin/time -v, on m.cores CPUs (GOMAXPROCS,
// and taskset when it is there).
func (m *measurement) run(argv []string) error {
	tf, err := os.CreateTemp("", "verifybench-time")
	if err != nil {
		return err
	}
	tf.Close()
	defer os.Remove(tf.Name())
	full := append([]string{"/usr/bin/time", "-v", "-o", tf.Name()}, argv...)
	if ts, err := exec.LookPath("taskset"); err == nil {
		cpus := "0"
		if m.cores > 1 {
			cpus = fmt.Sprintf("0-%d", m.cores-1)
		}
		full = append([]string{ts, "-c", cpus}, full...)
	}
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(m.cores))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start).Seconds()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", filepath.Base(argv[0]), err, lastLine(errb.String()))
	}
	if m.wall == 0 || wall < m.wall {
		m.wall = wall
	}
	report, _ := os.ReadFile(tf.Name())
	if s := rssRE.FindSubmatch(report); s != nil {
		kb, _ := strconv.ParseFloat(string(s[1]), 64)
		m.rssMB = max(m.rssMB, kb/1024)
	}
	text := out.String()
	if strings.HasPrefix(text, "records ") {
		f := strings.Fields(text)
		m.records, m.note = f[1], "findings: "+f[5]
	} else if i := strings.Index(text, "verified "); i >= 0 {
		line := lastLine(text[i:])
		m.records = strings.Fields(line)[3]
		if j := strings.LastIndex(line, ": "); j >= 0 {
			m.note = line[j+2:]
		}
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func printTable(w io.Writer, ms []*measurement, files []string, sizes []int64) {
	byName := map[string]*measurement{}
	for _, m := range ms {
		byName[strings.Fields(m.name)[0]+fmt.Sprint(len(m.files))] = m
	}
	bare := byName["bare1"]
	fmt.Fprintf(w, "\nverify benchmark: %s (%.0f MB) and %s (%.0f MB), page cache warm\n\n", files[0], float64(sizes[0])/1e6, files[1], float64(sizes[1])/1e6)
	fmt.Fprintf(w, "| %-52s | %5s | %8s | %8s | %6s | %7s | %7s | %s\n", "run", "cores", "MB/s", "vs bare", "wall s", "RSS MB", "records", "notes")
	fmt.Fprintf(w, "|%s|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 54), strings.Repeat("-", 7), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 8), strings.Repeat("-", 9), strings.Repeat("-", 9))
	for _, m := range ms {
		if m.err != nil {
			fmt.Fprintf(w, "| %-52s | %5d | failed: %v\n", m.name, m.cores, m.err)
			continue
		}
		ratio := "-"
		if bare != nil && bare.err == nil {
			ratio = fmt.Sprintf("%.2f", m.mbps()/bare.mbps())
		}
		fmt.Fprintf(w, "| %-52s | %5d | %8.1f | %8s | %6.2f | %7.1f | %7s | %s\n", m.name, m.cores, m.mbps(), ratio, m.wall, m.rssMB, m.records, m.note)
	}
	ratio := func(a, b *measurement) string {
		if a == nil || b == nil || a.err != nil || b.err != nil {
			return "n/a"
		}
		return fmt.Sprintf("%.2f", a.mbps()/b.mbps())
	}
	amber1, amber2 := byName["amber1"], byName["amber2"]
	fmt.Fprintf(w, "\namber verify, one file, one core:    %s of the bare pipeline (target >= 0.90)\n", ratio(amber1, bare))
	fmt.Fprintf(w, "amber verify, two files, two cores:  %sx one file on one core (target >= 1.8)\n", ratio(amber2, amber1))
	if amber1 != nil && amber2 != nil {
		fmt.Fprintf(w, "peak RSS: %.1f MB one file, %.1f MB two files (target < 64)\n", amber1.rssMB, amber2.rssMB)
	}
	if n := byName["nlnwa/gowarc1"]; n != nil {
		fmt.Fprintf(w, "amber verify vs nlnwa/gowarc:        %sx\n", ratio(amber1, n))
	}
	if n := byName["internetarchive/gowarc1"]; n != nil {
		fmt.Fprintf(w, "amber verify vs internetarchive/gowarc: %sx\n", ratio(amber1, n))
	}
}
