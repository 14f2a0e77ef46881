//go:build unix

// The late-server test helper (registered in main_test.go): a service that
// takes a while to open its port, stamps when it started and listened, and
// answers a health URL that a file can turn sick (health_test.go).
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"
)

func helperLateServer(a *helperArgs) int {
	d, port := a.duration(1), a.int(2)
	if !a.ok(4, 4) {
		return helperUsage
	}
	return lateServer(a.args[0], d, port, a.args[3])
}

// lateServer is the late-server helper (main_test.go): a service that
// takes d to open its port, and whose health can be switched by a file.
func lateServer(name string, d time.Duration, port int, stamps string) int {
	stamp := func(what string) error {
		f, err := os.OpenFile(stamps, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f, "%s %s %d %d\n", name, what, os.Getpid(), time.Now().UnixNano())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "late-server %s: %v\n", name, err)
		return 1
	}
	if err := stamp("started"); err != nil {
		return fail(err)
	}
	time.Sleep(d)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fail(err)
	}
	if err := stamp("listening"); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(name+".listening", nil, 0o644); err != nil {
		return fail(err)
	}
	fmt.Printf("late-server %s: listening on %s\n", name, l.Addr())
	err = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(name + ".sick"); err == nil {
			http.Error(w, "sick", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	}))
	return fail(err)
}
