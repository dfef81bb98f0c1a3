package crawl

import (
	"errors"
	"reflect"
	"strconv"
	"testing"
)

// TestTally: the counts reach the Result; the failure of an optional URL
// is not one, unless it is a seed's.
func TestTally(t *testing.T) {
	var tl tally
	tl.markOptional("https://a.example/favicon.ico")
	tl.fail("https://a.example/favicon.ico", false, errors.New("404"))
	tl.fail("https://a.example/favicon.ico", true, errors.New("seed"))
	tl.fail("https://a.example/x", false, errors.New("refused"))
	tl.captured(100, false, false)
	tl.captured(20, true, true)
	tl.skip(3)
	tl.addPages(2)
	tl.requests.Add(5)
	r := tl.result(1)
	if len(r.Failures) != 2 || !r.Failures[0].Seed || r.Failures[1].URL != "https://a.example/x" {
		t.Errorf("Failures = %+v; want the seed's and x's", r.Failures)
	}
	want := Result{Pages: 2, Captures: 2, Revisits: 1, Bytes: 120, Requests: 5, Skipped: 3, Truncated: 1, LostLeases: 1}
	r.Failures = nil
	if !reflect.DeepEqual(*r, want) {
		t.Errorf("Result = %+v, want %+v", *r, want)
	}
}

// TestTallyOptionalBounded: past maxOptional, optional URLs fail like the
// others.
func TestTallyOptionalBounded(t *testing.T) {
	var tl tally
	for i := range maxOptional {
		tl.markOptional(strconv.Itoa(i))
	}
	tl.markOptional("past the cap")
	tl.fail("past the cap", false, errors.New("404"))
	tl.fail("0", false, errors.New("404"))
	if r := tl.result(0); len(r.Failures) != 1 || r.Failures[0].URL != "past the cap" {
		t.Errorf("Failures = %+v, want only the URL past the cap", r.Failures)
	}
}
