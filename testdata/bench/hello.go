//go:build ignore

// Hello is the floor of a command-line process written in Go: a static
// binary that starts the runtime, writes one line and exits. compare.go
// times it beside `ramona status` in the same run (built by compare.sh
// as ramona is: CGO_ENABLED=0, -ldflags='-s -w').
package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
