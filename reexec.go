// reexecPrefix: arguments put before the command line when Ramona re-executes
// its own binary (the server in the background, the exec shim); empty in the
// real binary, set by tests so the test binary acts as ramona.
package main

// reexecPrefix is prepended to the argv (after os.Executable()) whenever Ramona
// starts a copy of itself: argv = append(reexecPrefix, args...).
var reexecPrefix []string
