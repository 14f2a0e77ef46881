// Tests of the interactive console: commands from standard input against a
// running server, history with !N, and carrying on across a server restart.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConsoleRunsCommandsAndKeepsHistory(t *testing.T) {
	r := newTestRamona(t, fmt.Sprintf(`
[ramona:console]
history=./history

[program:one]
starttimeout=0
command=%s
`, helperCommand(t, "sleep", "1h")))
	r.start()
	r.waitState("one", "RUNNING", 10*time.Second)
	var out, errOut bytes.Buffer
	input := "status one\nbogus\nhistory\n!1\nexit\n"
	code := run([]string{"-c", r.conf, "console"}, strings.NewReader(input), &out, &errOut)
	t.Logf("console: exit %d\n%s\n%s", code, &out, &errOut)
	if strings.Count(out.String(), "RUNNING") != 2 {
		t.Errorf("status and !1 should both show RUNNING:\n%s", &out)
	}
	if !strings.Contains(errOut.String(), `unknown command "bogus"`) || !strings.Contains(out.String(), "(exit 2)") {
		t.Errorf("an unknown command is not reported")
	}
	if !strings.Contains(out.String(), "   1  status one") {
		t.Errorf("history does not list the commands:\n%s", &out)
	}
	data, _ := os.ReadFile(filepath.Join(r.dir, "history"))
	if string(data) != "status one\nbogus\nhistory\nstatus one\nexit\n" {
		t.Errorf("history file: %q", data)
	}

	// The console carries on when the server goes away and comes back.
	r.stopAll()
	t.Setenv("RAMONA_TEST_ID", r.id) // the background server started below is tracked too
	out.Reset()
	code = run([]string{"-c", r.conf, "console"}, strings.NewReader("status\nstart -S\nstatus one\n"), &out, &errOut)
	if !strings.Contains(out.String(), "(exit 4)") || !strings.Contains(out.String(), "server started") {
		t.Errorf("console across a server restart:\n%s\n%s", &out, &errOut)
	}
	// `start -S` above started a background server: stop it.
	if code, _, _ := r.cli("stop"); code != 0 {
		t.Errorf("stop of the console-started server: exit %d", code)
	}
}
