// Checks that README.md stays the configuration reference: every key of the
// keySpec tables in config.go is documented there.
package main

import (
	"os"
	"strings"
	"testing"
)

func TestReadmeDocumentsEveryKey(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	tables := map[string][]string{
		"[general]":        specNames(generalKeys),
		"[ramona:server]":  specNames(serverKeys),
		"[ramona:console]": specNames(consoleKeys),
		"[ramona:notify]":  specNames(notifyKeys),
		"[program:NAME]":   specNames(programKeys),
		"[tool:NAME]":      specNames(toolKeys),
	}
	for section, keys := range tables {
		for _, k := range keys {
			if !strings.Contains(readme, "`"+k+"`") {
				t.Errorf("README.md does not document %s %s", section, k)
			}
		}
	}
}
