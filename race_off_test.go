//go:build !race

// Whether the test binary was built with the race detector (see
// race_on_test.go): not in this build.
package main

const raceDetector = false
