//go:build race

// Whether the test binary was built with the race detector: under -race
// every process the tests start (servers and helpers are the test binary)
// runs several times slower, so the suite keeps go test's parallelism.
package main

const raceDetector = true
