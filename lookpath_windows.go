// Finding a program's executable on Windows: a name with a slash,
// backslash or drive is a path (relative to the program's directory), any
// other name is looked up in the program's PATH; a name without an
// extension also matches NAME.exe, NAME.com, NAME.bat and NAME.cmd (the
// program's PATHEXT when set), as cmd.exe finds it.
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

func lookPath(name, path, dir string) (string, error) {
	if strings.ContainsAny(name, `/\:`) {
		full := name
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, full)
		}
		found, err := findExecutable(full)
		if err != nil {
			return "", fmt.Errorf("command %s: %w", name, err)
		}
		return found, nil
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		if found, err := findExecutable(filepath.Join(d, name)); err == nil {
			return found, nil
		}
	}
	return "", fmt.Errorf("command %s: not found in PATH=%s", name, path)
}

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
