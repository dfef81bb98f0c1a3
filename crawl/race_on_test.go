//go:build race

package crawl_test

// raceEnabled: the race detector changes memory and speed tenfold.
const raceEnabled = true
