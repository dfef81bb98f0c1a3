//go:build race

package main

// raceEnabled: the race detector multiplies memory and time, so memory
// bounds are not asserted and big inputs are made smaller.
const raceEnabled = true
