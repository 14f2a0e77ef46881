// Status, both ends: what the server reports of each program (programStatus,
// read on the loop, with CPU and memory read off it) and which programs
// should be running, and how the command line shows it: the table, or JSON.
// Also `who`: the clients connected (the set ctl.go keeps on the loop).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// programStatus is one line of `status` and one object of `status --json`.
// Error is the program's error and what keeps its logs from working (a
// refused file), one per line; it and StatusText are capped at
// statusTextMax.
type programStatus struct {
	Name       string  `json:"name"`
	Group      string  `json:"group"`
	State      string  `json:"state"`
	PID        int     `json:"pid"`
	Launches   int     `json:"launches"`
	Restarts   int     `json:"restarts"`
	Uptime     float64 `json:"uptime"`
	Exit       any     `json:"exit"`
	StatusText string  `json:"status_text"`
	Error      string  `json:"error,omitempty"`
	// With healthcheck=: "starting" (no verdict yet), "healthy" or
	// "unhealthy" and why (health.go); null without.
	Health       *string `json:"health"`
	HealthReason string  `json:"health_reason,omitempty"`
	Priority     int     `json:"priority"`
	LostBytes    int64   `json:"lost_bytes"`
	// The program's process tree (containment.go): CPU seconds since its
	// cgroup was made (without cgroups: of the processes alive now), and
	// resident memory now.
	CPUSeconds  float64 `json:"cpu_seconds"`
	MemoryBytes int64   `json:"memory_bytes"`
	Cgroup      string  `json:"cgroup,omitempty"`
}

func (s *Supervisor) status(p *Program) programStatus {
	st := programStatus{
		Name: p.cfg.Name, Group: p.cfg.Group, State: p.state.String(), PID: p.pid(), Launches: p.launches, Restarts: p.restarts,
		StatusText: p.statusText, Priority: p.cfg.Priority, LostBytes: p.logs.lost(),
	}
	if p.inst != nil && p.inst.status == nil && (p.state == StateRunning || p.state == StateStarting || p.state == StateStopping) {
		st.Uptime = time.Since(p.inst.started).Seconds()
	}
	if e := p.lastExit; e != nil && st.PID == 0 {
		if e.signal != 0 {
			st.Exit = signalName(e.signal)
		} else {
			st.Exit = e.code
		}
	}
	if p.state == StateFatal || p.state == StateCfgError || p.state == StateBackoff {
		st.Error = p.lastError
	}
	if p.cg != nil {
		st.Cgroup = p.cg.dir
	}
	if st.Health = p.healthField(); p.probe.health == healthUnhealthy {
		st.HealthReason = capText(p.probe.reason, statusTextMax)
	}
	st.Error = capText(joinLines(st.Error, p.logs.problem()), statusTextMax)
	st.StatusText = capText(st.StatusText, statusTextMax)
	return st
}

// shouldRun: a program that status without names expects to be RUNNING.
func (s *Supervisor) shouldRun(p *Program) bool {
	switch p.state {
	case StateDisabled:
		return false
	case StateStopped: // never started yet; stopped on request or after an expected exit is fine
		return p.cfg.AutoStart && p.launches == 0
	}
	return true
}

func (c *cmdline) status(in *invocation) int {
	r, code := c.call(in.req, nil)
	if r.Result == nil {
		return code
	}
	var list []programStatus
	if err := json.Unmarshal(r.Result, &list); err != nil {
		c.errorf("bad status reply: %v", err)
		return exitFailed
	}
	if in.asJSON {
		out, _ := json.MarshalIndent(list, "", "  ")
		fmt.Fprintf(c.stdout, "%s\n", out)
		return code
	}
	out := bufio.NewWriterSize(c.stdout, 64<<10) // tabwriter writes each cell on its own
	printStatus(out, list)
	out.Flush()
	return code
}

// printStatus writes the status table: name, state, pid, uptime or exit
// status, CPU time and memory of its process tree, launches, restarts, and
// the STATUS= text or the first line of the error, every text with its
// control characters escaped.
func printStatus(w io.Writer, list []programStatus) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tPID\tUPTIME/EXIT\tCPU\tMEM\tLAUNCHES\tRESTARTS\tSTATUS")
	for _, st := range list {
		pid, up := "-", "-"
		if st.PID > 0 {
			pid = fmt.Sprint(st.PID)
			up = formatUptime(time.Duration(st.Uptime * float64(time.Second)))
		} else if st.Exit != nil {
			up = fmt.Sprintf("exit %v", st.Exit)
		}
		text := st.StatusText
		if st.HealthReason != "" {
			text = "unhealthy: " + st.HealthReason
		}
		if st.Error != "" {
			text = firstLine(st.Error)
		}
		if st.LostBytes > 0 {
			text = strings.TrimSpace(fmt.Sprintf("%s (log: %d bytes lost)", text, st.LostBytes))
		}
		cpu, mem := st.usageCells()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", escapeControls(st.Name, false), escapeControls(st.State, false),
			pid, up, cpu, mem, st.Launches, st.Restarts, escapeControls(text, false))
	}
	tw.Flush()
}

func formatUptime(d time.Duration) string {
	d = d.Truncate(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h >= 24 {
		return fmt.Sprintf("%dd%02d:%02d:%02d", h/24, h%24, m, s)
	}
	return fmt.Sprintf("%d:%02d:%02d", h, m, s)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// serveStatus answers `status` on the loop with every program's state, or
// the named ones'; exit 3 when one that should run does not. CPU and memory
// are read off the loop, from /proc and cgroup files.
func (s *Supervisor) serveStatus(c *clientConn, req request, sink *replySink) {
	progs, err := s.resolveNames(req.Names)
	if err != nil {
		sink.done(reply{Exit: exitUsage, Error: err.Error()})
		return
	}
	all := len(req.Names) == 0
	if all {
		progs = s.order
	}
	list := make([]programStatus, 0, len(progs))
	queries := make([]usageQuery, 0, len(progs))
	exit := exitOK
	for _, p := range progs {
		list = append(list, s.status(p))
		queries = append(queries, s.usageQuery(p))
		if p.state != StateRunning && (!all || s.shouldRun(p)) {
			exit = exitNotAll
		}
	}
	go func() { // ends once the files are read and the reply is queued
		fillUsage(list, readUsage(queries))
		data, _ := json.Marshal(list)
		sink.done(reply{Exit: exit, Result: data})
	}()
}

// serveWho answers `who`: the clients connected, the caller marked.
func (s *Supervisor) serveWho(c *clientConn, req request, sink *replySink) {
	var lines []string
	clients := make([]*clientConn, 0, len(s.clients))
	for cl := range s.clients {
		clients = append(clients, cl)
	}
	sort.Slice(clients, func(i, j int) bool { return clients[i].id < clients[j].id })
	for _, cl := range clients {
		mark := " "
		if cl == c {
			mark = "*"
		}
		lines = append(lines, fmt.Sprintf("%s %-5s %-28s connected %s (%s ago)", mark, cl.transport, cl.peer,
			cl.since.Format("2006-01-02 15:04:05"), roundDuration(time.Since(cl.since))))
	}
	data, _ := json.Marshal(lines)
	sink.done(reply{Result: data})
}
