package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/amber-archiver/amber/internal/testsite"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"amber": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scripts in testdata/script against the test news
// site, started afresh for each script. Scripts see:
//
//	$SITE     the main host, e.g. http://127.0.0.1:PORT
//	$ARTICLE  the article's URL
//	$CDN      the second host
//	$REFUSED  a URL whose port refuses connections
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			site := testsite.New()
			env.Defer(site.Close)
			env.Setenv("SITE", site.Main.URL)
			env.Setenv("ARTICLE", site.URL(testsite.Article))
			env.Setenv("CDN", site.CDN.URL)
			env.Setenv("REFUSED", "http://127.0.0.1:9/")
			return nil
		},
	})
}
