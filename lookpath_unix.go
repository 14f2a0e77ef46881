//go:build unix

// Finding a program's executable on Unix: a name with a slash is a path
// (relative to the program's directory), any other name is looked up in
// the program's PATH; the file must have an execute bit.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// lookPath finds a command the way a shell would, with the program's PATH; a
// name with a slash is relative to the program's directory.
func lookPath(name, path, dir string) (string, error) {
	if strings.Contains(name, "/") {
		full := name
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, full)
		}
		if err := checkExecutable(full); err != nil {
			return "", fmt.Errorf("command %s: %w", name, err)
		}
		return full, nil
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		full := filepath.Join(d, name)
		if checkExecutable(full) == nil {
			return full, nil
		}
	}
	return "", fmt.Errorf("command %s: not found in PATH=%s", name, path)
}

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
