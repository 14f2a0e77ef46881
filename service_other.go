//go:build !windows

// `ramona wininstall` and `winuninstall` exist on Windows only
// (service_windows.go); elsewhere they say what to use instead, and
// `ramona daemon` is never a Windows service.
package main

func (c *cmdline) winInstall(args []string) int {
	c.errorf("wininstall registers a Windows service and works on Windows only; elsewhere run `ramona daemon` from the init system (a systemd unit, say)")
	return exitUsage
}

func (c *cmdline) winUninstall(args []string) int {
	c.errorf("winuninstall removes a Windows service and works on Windows only")
	return exitUsage
}

func runAsService(run func() int) (int, bool) { return 0, false }
