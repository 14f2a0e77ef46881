//go:build unix

// Finding a program's executable on Unix (lookPath in spawn.go): a name
// with a slash is a path, any other is looked up in PATH, and the file
// must have an execute bit.
package main

import (
	"errors"
	"os"
	"strings"
)

// hasDirPart: a name with a slash is a path, not looked up in PATH.
func hasDirPart(name string) bool { return strings.Contains(name, "/") }

// executableAt is path when it is an executable file.
func executableAt(path string) (string, error) { return path, checkExecutable(path) }

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return errors.New(pathErrText(err))
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if fi.Mode()&0o111 == 0 {
		return errors.New("is not executable")
	}
	return nil
}
