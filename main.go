// Command ramona is a process supervisor: it starts the programs an INI file
// describes, keeps them alive, captures their output and answers to a command
// line. This file owns the command line: main, run and the dispatch of every
// command; no other file calls os.Exit.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command line; it returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "ramona: not yet implemented")
	return 1
}
