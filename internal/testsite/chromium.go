package testsite

import (
	"os"
	"testing"

	"github.com/amber-archiver/amber/crawl/browser"
)

// Chromium returns the browser for tests (AMBER_CHROMIUM, or the first
// on PATH), or skips the test when there is none and AMBER_E2E_REQUIRED
// is unset (CI sets it: then the test fails).
func Chromium(t testing.TB) string {
	t.Helper()
	path, err := browser.FindChromium(os.Getenv("AMBER_CHROMIUM"))
	if err != nil {
		if os.Getenv("AMBER_E2E_REQUIRED") != "" {
			t.Fatalf("AMBER_E2E_REQUIRED is set: %v", err)
		}
		t.Skip(err)
	}
	return path
}
