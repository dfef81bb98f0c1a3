//go:build race

package replay

// raceEnabled: the race detector multiplies memory (and time), so the
// memory tests measure nothing under it.
const raceEnabled = true
