package main

import (
	"fmt"
	"strconv"
	"strings"
)

// scenarioDef is one scenario of the runner: a load invocation.
type scenarioDef struct {
	name    string
	group   string // connect, echo, broadcast, polling-echo, binary, compress
	conns   int    // connections the generator opens
	polling bool   // needs long-polling (the bare server has none)
	// compress runs the generator with -compress and the servers with
	// compression: sockwasm per_message_deflate = true, Node
	// perMessageDeflate {threshold: 1024}; HTTP compression is on by
	// default in both. The bare server has none.
	compress bool
	args     []string
	desc     string
}

// scenarios lists the runner's scenarios, with quick mode's smaller counts.
func scenarios(quick bool) []scenarioDef {
	n := func(full, q int) int {
		if quick {
			return q
		}
		return full
	}
	var out []scenarioDef
	for _, c := range []struct {
		name  string
		n, q  int
		extra []string
	}{
		{"connect-1k", 1000, 100, nil},
		{"connect-10k", 10000, 500, nil},
		// Quick mode spreads its 1500 over three source addresses, so
		// that the path the full count needs is exercised too.
		{"connect-50k", 50000, 1500, []string{"-per-source", strconv.Itoa(n(25000, 500))}},
	} {
		k := n(c.n, c.q)
		out = append(out, scenarioDef{
			name: c.name, group: "connect", conns: k,
			args: append([]string{"-scenario", "connect", "-clients", strconv.Itoa(k)}, c.extra...),
			desc: fmt.Sprintf("%d WebSocket connections, 64 being opened at a time", k),
		})
	}
	clients := n(100, 20)
	for _, e := range []struct {
		size, inflight int
	}{{64, 1}, {64, 4}, {4096, 1}, {4096, 4}} {
		out = append(out, scenarioDef{
			name: fmt.Sprintf("echo-%s-x%d", sizeName(e.size), e.inflight), group: "echo", conns: clients,
			args: []string{"-scenario", "echo", "-clients", strconv.Itoa(clients), "-inflight", strconv.Itoa(e.inflight),
				"-size", strconv.Itoa(e.size)},
			desc: fmt.Sprintf("%d WebSocket clients × %d acked echo in flight, %s string", clients, e.inflight, humanSize(e.size)),
		})
	}
	recv := n(1000, 100)
	out = append(out,
		scenarioDef{
			name: "broadcast-closed16", group: "broadcast", conns: recv + 1,
			args: []string{"-scenario", "broadcast", "-clients", strconv.Itoa(recv), "-inflight", "16"},
			desc: fmt.Sprintf("1 sender, %d receivers in one room, at most 16 messages not yet delivered to all, 64 B text", recv),
		},
		scenarioDef{
			name: "broadcast-rate20", group: "broadcast", conns: recv + 1,
			args: []string{"-scenario", "broadcast", "-clients", strconv.Itoa(recv), "-rate", "20"},
			desc: fmt.Sprintf("1 sender, %d receivers in one room, 20 messages/s, 64 B text", recv),
		},
	)
	pc := n(50, 10)
	out = append(out, scenarioDef{
		name: "polling-echo", group: "polling-echo", conns: 2 * pc, polling: true,
		args: []string{"-scenario", "echo", "-transport", "polling", "-clients", strconv.Itoa(pc), "-inflight", "1", "-size", "64"},
		desc: fmt.Sprintf("%d long-polling clients × 1 acked echo in flight, 64 B string", pc),
	})
	// The cost of compression, against echo-4KiB-x1 and a polling echo of
	// the same size: what browsers offer, each server's own way to
	// compress (sockwasm without context takeover, Node with it).
	out = append(out,
		scenarioDef{
			name: "echo-4KiB-x1-deflate", group: "compress", conns: clients, compress: true,
			args: []string{"-scenario", "echo", "-clients", strconv.Itoa(clients), "-inflight", "1", "-size", "4096", "-compress"},
			desc: fmt.Sprintf("%d WebSocket clients × 1 acked echo in flight, 4 KiB string, permessage-deflate both ways", clients),
		},
		scenarioDef{
			name: "polling-echo-4KiB", group: "compress", conns: 2 * pc, polling: true,
			args: []string{"-scenario", "echo", "-transport", "polling", "-clients", strconv.Itoa(pc), "-inflight", "1", "-size", "4096"},
			desc: fmt.Sprintf("%d long-polling clients × 1 acked echo in flight, 4 KiB string, no Accept-Encoding", pc),
		},
		scenarioDef{
			name: "polling-echo-4KiB-gzip", group: "compress", conns: 2 * pc, polling: true, compress: true,
			args: []string{"-scenario", "echo", "-transport", "polling", "-clients", strconv.Itoa(pc), "-inflight", "1", "-size", "4096", "-compress"},
			desc: fmt.Sprintf("%d long-polling clients × 1 acked echo in flight, 4 KiB string, responses gzip-compressed", pc),
		},
	)
	out = append(out, scenarioDef{
		name: "binary-8KiB", group: "binary", conns: clients,
		args: []string{"-scenario", "binary", "-clients", strconv.Itoa(clients), "-inflight", "1", "-size", "8192"},
		desc: fmt.Sprintf("%d WebSocket clients × 1 acked echo in flight with one 8 KiB binary attachment", clients),
	})
	return out
}

// humanSize is "64 B", "4 KiB".
func humanSize(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return strconv.Itoa(n/1024) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

// sizeName is "64B", "4KiB" (for scenario names).
func sizeName(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return strconv.Itoa(n/1024) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// selectScenarios picks scenarios by name or group ("all": every one), in
// the list's order.
func selectScenarios(all []scenarioDef, spec string) ([]scenarioDef, error) {
	if spec == "" || spec == "all" {
		return all, nil
	}
	want := map[string]bool{}
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		found := false
		for _, d := range all {
			if d.name == s || d.group == s {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown scenario %q (want one of %s, or a group: connect, echo, broadcast, polling-echo, binary, compress)", s, scenarioNames(all))
		}
		want[s] = true
	}
	var out []scenarioDef
	for _, d := range all {
		if want[d.name] || want[d.group] {
			out = append(out, d)
		}
	}
	return out, nil
}

func scenarioNames(all []scenarioDef) string {
	var names []string
	for _, d := range all {
		names = append(names, d.name)
	}
	return strings.Join(names, ", ")
}
