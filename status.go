// Status, both ends: what the server reports of each program (programStatus,
// read on the loop, with CPU and memory read off it) and which programs
// should be running, and how the command line shows it: the table, or JSON.
// Also `who`: the clients connected (the set ctl.go keeps on the loop).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	return c.showStatus(r, in.asJSON)
}

// showStatus prints a status reply: the table, or JSON; it returns the
// exit code the reply carries (or exitFailed for a reply it cannot read).
func (c *cmdline) showStatus(r reply, asJSON bool) int {
	code := r.Exit
	// Sized before decoding: grown one element at a time, a list of 1000
	// would be copied ten times over. Each object has one "name" key (in a
	// string, the quote before it would be escaped).
	list := make([]programStatus, 0, bytes.Count(r.Result, []byte(`{"name":`)))
	if err := json.Unmarshal(r.Result, &list); err != nil {
		c.errorf("bad status reply: %v", err)
		return exitFailed
	}
	if asJSON {
		out, _ := json.MarshalIndent(list, "", "  ")
		fmt.Fprintf(c.stdout, "%s\n", out)
		return code
	}
	out := bufio.NewWriterSize(c.stdout, 64<<10)
	printStatus(out, list)
	out.Flush()
	return code
}

// statusWire is programStatus on the control channel: the same keys, but a
// zero value is left out (the client's decoding makes it zero again), which
// takes a quarter off the reply of many programs. encodeStatusWire converts
// one into the other, so a field added to one and not the other does not
// compile.
type statusWire struct {
	Name         string  `json:"name"`
	Group        string  `json:"group,omitempty"`
	State        string  `json:"state,omitempty"`
	PID          int     `json:"pid,omitempty"`
	Launches     int     `json:"launches,omitempty"`
	Restarts     int     `json:"restarts,omitempty"`
	Uptime       float64 `json:"uptime,omitempty"`
	Exit         any     `json:"exit,omitempty"`
	StatusText   string  `json:"status_text,omitempty"`
	Error        string  `json:"error,omitempty"`
	Health       *string `json:"health,omitempty"`
	HealthReason string  `json:"health_reason,omitempty"`
	Priority     int     `json:"priority,omitempty"`
	LostBytes    int64   `json:"lost_bytes,omitempty"`
	CPUSeconds   float64 `json:"cpu_seconds,omitempty"`
	MemoryBytes  int64   `json:"memory_bytes,omitempty"`
	Cgroup       string  `json:"cgroup,omitempty"`
}

// statusWireSize is about what one program takes in a status reply, to
// size its buffer once: a RUNNING program with a cgroup is ~120 bytes.
const statusWireSize = 160

// encodeStatusWire is the status reply's result: list as statusWire, the
// bytes json.Marshal would make. One program at a time into one buffer:
// at 1000 programs, a []statusWire copy of the list (200 KB) and the
// buffer's regrowth were a fifth of the garbage of a status request.
func encodeStatusWire(list []programStatus) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(2 + len(list)*statusWireSize)
	enc := json.NewEncoder(&buf)
	var w statusWire // one, reused: passed as an interface it lives on the heap
	buf.WriteByte('[')
	for i := range list {
		if i > 0 {
			buf.WriteByte(',')
		}
		w = statusWire(list[i])
		if err := enc.Encode(&w); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// printStatus writes the status table: name, state, pid, uptime or exit
// status, CPU time and memory of its process tree, launches, restarts, and
// the STATUS= text or the first line of the error, every text with its
// control characters escaped.
func printStatus(w io.Writer, list []programStatus) {
	table := newTextTable(len(list)+1, "NAME", "STATE", "PID", "UPTIME/EXIT", "CPU", "MEM", "LAUNCHES", "RESTARTS", "STATUS")
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
		table.row(escapeControls(st.Name, false), escapeControls(st.State, false),
			pid, up, cpu, mem, strconv.Itoa(st.Launches), strconv.Itoa(st.Restarts), escapeControls(text, false))
	}
	table.write(w)
}

// textTable is a table of text cells written with its columns aligned, as
// text/tabwriter aligns tab-separated cells with padding 2 (every column
// as wide as its widest cell plus two spaces, in runes; the last column
// unpadded), without tabwriter's copy of every cell: `status` of 1000
// programs writes 9000 of them.
type textTable struct {
	cols  int
	cells []string
}

func newTextTable(rows int, header ...string) *textTable {
	t := &textTable{cols: len(header), cells: make([]string, 0, rows*len(header))}
	t.row(header...)
	return t
}

func (t *textTable) row(cells ...string) { t.cells = append(t.cells, cells...) }

func (t *textTable) write(w io.Writer) {
	width := make([]int, t.cols)
	for i, c := range t.cells {
		width[i%t.cols] = max(width[i%t.cols], utf8.RuneCountInString(c))
	}
	var line []byte
	for r := 0; r < len(t.cells); r += t.cols {
		line = line[:0]
		for i, c := range t.cells[r : r+t.cols] {
			line = append(line, c...)
			if i < t.cols-1 {
				line = append(line, strings.Repeat(" ", width[i]+2-utf8.RuneCountInString(c))...)
			}
		}
		w.Write(append(line, '\n'))
	}
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
		data, _ := encodeStatusWire(list)
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
