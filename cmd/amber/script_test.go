package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/amber-archiver/amber/internal/testsite"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"amber-program": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
		"amber-peak":    amberPeak, // memory_test.go
	})
}

// TestScripts runs the CLI scripts in testdata/script against the test news
// site, started afresh for each script. amber runs in-process through the
// same run function main uses, as a process. Scripts see:
//
//	$SITE     the main host, e.g. http://127.0.0.1:PORT
//	$ARTICLE  the article's URL
//	$CDN      the second host
//	$REFUSED  a URL whose port refuses connections
//
// and the damaged WARC fixtures of testdata/damaged in damaged/, the files
// other tools wrote (testdata/others) in others/.
//
// `amber ARGS...` runs amber; `status N` checks the exit status of the last
// amber command.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "../../testdata/script",
		Setup: func(env *testscript.Env) error {
			site := testsite.New()
			env.Defer(site.Close)
			env.Setenv("SITE", site.Main.URL)
			env.Setenv("ARTICLE", site.URL(testsite.Article))
			env.Setenv("CDN", site.CDN.URL)
			env.Setenv("REFUSED", "http://127.0.0.1:9/")
			// The damaged WARC fixtures, as $WORK/damaged/*.warc.gz, and
			// the files other tools wrote, as $WORK/others/*.
			for _, dir := range []string{"damaged", "others"} {
				fixtures, err := filepath.Glob("../../testdata/" + dir + "/*.warc.gz")
				plainWARCs, _ := filepath.Glob("../../testdata/" + dir + "/*.warc")
				fixtures = append(fixtures, plainWARCs...)
				arcs, _ := filepath.Glob("../../testdata/" + dir + "/*.arc*")
				fixtures = append(fixtures, arcs...)
				if err != nil || len(fixtures) == 0 {
					return fmt.Errorf("no fixtures in testdata/%s: %v", dir, err)
				}
				dst := filepath.Join(env.WorkDir, dir)
				if err := os.Mkdir(dst, 0o755); err != nil {
					return err
				}
				for _, f := range fixtures {
					b, err := os.ReadFile(f)
					if err != nil {
						return err
					}
					if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), b, 0o644); err != nil {
						return err
					}
				}
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"amber": func(ts *testscript.TestScript, neg bool, args []string) {
				// The amber program TestMain installed, run as a process in
				// the script's directory.
				err := ts.Exec("amber-program", args...)
				code := 0
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					code = exit.ExitCode()
				} else if err != nil {
					ts.Fatalf("amber: %v", err)
				}
				ts.Setenv("AMBER_STATUS", strconv.Itoa(code))
				if (code != 0) != neg {
					ts.Fatalf("amber exited with status %d", code)
				}
			},
			"status": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 || neg {
					ts.Fatalf("usage: status N")
				}
				if got := ts.Getenv("AMBER_STATUS"); got != args[0] {
					ts.Fatalf("exit status %s, want %s", got, args[0])
				}
			},
		},
	})
}
