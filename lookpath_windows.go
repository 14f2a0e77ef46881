// Finding a program's executable on Windows (lookPath in spawn.go): a name
// with a slash, backslash or drive is a path; a name without an extension
// also matches NAME.com, NAME.exe, NAME.bat and NAME.cmd (PATHEXT when
// set), as cmd.exe finds it.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// windowsExecutableExts are the extensions tried when PATHEXT is unset.
var windowsExecutableExts = []string{".com", ".exe", ".bat", ".cmd"}

// hasDirPart: a name with a slash, backslash or drive is a path.
func hasDirPart(name string) bool { return strings.ContainsAny(name, `/\:`) }

// executableAt is path when it names an executable, else the first of
// path+EXT that exists.
func executableAt(path string) (string, error) { return findExecutable(path) }

// findExecutable is path itself when it has an executable extension, else
// the first of path+EXT that exists.
func findExecutable(path string) (string, error) {
	exts := windowsExecutableExts
	if v := os.Getenv("PATHEXT"); v != "" {
		exts = strings.Split(strings.ToLower(v), ";")
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext != "" {
		for _, e := range exts {
			if e == ext {
				return path, checkExecutable(path)
			}
		}
	}
	for _, e := range exts {
		if e != "" && checkExecutable(path+e) == nil {
			return path + e, nil
		}
	}
	if err := checkExecutable(path); err != nil {
		return "", err
	}
	return "", fmt.Errorf("is not executable (its extension is none of %s)", strings.Join(exts, " "))
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return errors.New(pathErrText(err))
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	return nil
}
