package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// num is a float64 that is null in JSON when it is not a number.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// metric is a column of a scenario's table.
type metric struct {
	name    string
	unit    string // how values print: rate, ms, us, kib, mib, frac
	value   func(c *cell) float64
	noRatio bool // a ratio of it means nothing (the generator's load)
}

// resultOf is a cell's result, or an empty one.
func resultOf(c *cell) *result {
	if c.Result == nil {
		return &result{}
	}
	return c.Result
}

func lat(c *cell, f func(l *latency) float64) float64 {
	if c.Result == nil || c.Result.Latency == nil {
		return nan
	}
	return f(c.Result.Latency)
}

// per divides, NaN when the denominator is 0.
func per(a float64, b float64) float64 {
	if b == 0 {
		return nan
	}
	return a / b
}

// metricsOf are a scenario group's columns.
func metricsOf(group string) []metric {
	busy := metric{name: "server busy", unit: "frac", value: func(c *cell) float64 { return per(float64(c.ServerCPU), resultOf(c).Seconds) }}
	gen := metric{name: "gen busy", unit: "frac", value: func(c *cell) float64 {
		if c.Result == nil {
			return nan
		}
		return c.Result.GenBusy
	}, noRatio: true}
	latencies := []metric{
		{name: "p50 ms", unit: "ms", value: func(c *cell) float64 { return lat(c, func(l *latency) float64 { return l.P50 }) }},
		{name: "p99 ms", unit: "ms", value: func(c *cell) float64 { return lat(c, func(l *latency) float64 { return l.P99 }) }},
		{name: "p99.9 ms", unit: "ms", value: func(c *cell) float64 { return lat(c, func(l *latency) float64 { return l.P999 }) }},
	}
	switch group {
	case "connect":
		return []metric{
			{name: "conn/s", unit: "rate", value: func(c *cell) float64 { return per(float64(resultOf(c).Connected), resultOf(c).Seconds) }},
			{name: "RSS KiB/conn", unit: "kib", value: func(c *cell) float64 {
				return per(float64(c.RSSAfter)-float64(c.RSSBefore), float64(resultOf(c).Connected))
			}},
			{name: "CPU µs/conn", unit: "us", value: func(c *cell) float64 { return per(float64(c.ServerCPU)*1e6, float64(resultOf(c).Connected)) }},
			{name: "RSS MiB", unit: "mib", value: func(c *cell) float64 { return float64(c.RSSAfter) / 1024 }},
			gen,
		}
	case "broadcast":
		return append(append([]metric{
			{name: "deliveries/s", unit: "rate", value: func(c *cell) float64 { return per(float64(resultOf(c).Deliveries), resultOf(c).Seconds) }},
		}, latencies...),
			metric{name: "CPU µs/delivery", unit: "us", value: func(c *cell) float64 {
				return per(float64(c.ServerCPU)*1e6, float64(resultOf(c).Deliveries))
			}},
			busy, gen)
	default: // echo, polling-echo, binary
		return append(append([]metric{
			{name: "acks/s", unit: "rate", value: func(c *cell) float64 { return per(float64(resultOf(c).AcksWindow), resultOf(c).Seconds) }},
		}, latencies...),
			metric{name: "CPU µs/ack", unit: "us", value: func(c *cell) float64 {
				return per(float64(c.ServerCPU)*1e6, float64(resultOf(c).AcksWindow))
			}},
			busy, gen)
	}
}

// badCount is what failed in a cell: verification failures, errors, and 1
// for a cell without a result.
func badCount(c *cell) int64 {
	if c.Result == nil {
		return 1
	}
	r := c.Result
	n := r.Errors + r.Lost + r.Duplicated + r.Misdirected + r.Bad
	if n == 0 && c.Error != "" {
		n = 1
	}
	return n
}

// fmtValue prints a value in its unit.
func fmtValue(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	switch unit {
	case "rate":
		switch {
		case v >= 1e6:
			return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M"
		case v >= 1e4:
			return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
		case v >= 1e3:
			return strconv.FormatFloat(v/1e3, 'f', 2, 64) + "k"
		}
		return strconv.FormatFloat(v, 'f', 0, 64)
	case "frac":
		return strconv.FormatFloat(v, 'f', 2, 64)
	default: // ms, us, kib, mib: three significant digits
		if v == 0 {
			return "0"
		}
		r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
		d := max(0, 2-int(math.Floor(math.Log10(math.Abs(r)))))
		return strconv.FormatFloat(r, 'f', d, 64)
	}
}

func fmtSpread(s spread, unit string) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 || s.Min == s.Max {
		return fmtValue(s.Median, unit)
	}
	return fmt.Sprintf("%s (%s–%s)", fmtValue(s.Median, unit), fmtValue(s.Min, unit), fmtValue(s.Max, unit))
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "×"
}

// table prints one scenario's table for one pass and returns how many of
// its cells failed.
func (r *runner) table(w io.Writer, pass string, sc scenarioDef) int {
	ms := metricsOf(sc.group)
	where := "pinned: server on CPU " + r.o.serverCPU + ", generator on CPU " + r.o.genCPU
	if pass == "unpinned" {
		where = "unpinned"
	}
	span := fmt.Sprintf("window %v", r.o.duration)
	if sc.group == "connect" {
		span = "the ramp, RSS " + r.o.settle.String() + " after it"
	}
	fmt.Fprintf(w, "\n## %s (%s)\n\n%s; generator GOMAXPROCS=1; rounds: %d; %s\n\n", sc.name, where, sc.desc, r.o.rounds, span)
	fmt.Fprint(w, "| server |")
	for _, m := range ms {
		fmt.Fprintf(w, " %s |", m.name)
	}
	fmt.Fprint(w, " bad |\n| --- |")
	for range ms {
		fmt.Fprint(w, " ---: |")
	}
	fmt.Fprint(w, " ---: |\n")
	medians := map[string][]float64{}
	failed := 0
	for _, sv := range r.servers {
		var cells []*cell
		for _, c := range r.cells {
			if c.Pass == pass && c.Scenario == sc.name && c.Server == sv.name {
				cells = append(cells, c)
			}
		}
		if len(cells) == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s |", sv.name)
		for _, m := range ms {
			vs := make([]float64, len(cells))
			for i, c := range cells {
				vs[i] = m.value(c)
			}
			s := spreadOf(vs)
			medians[sv.name] = append(medians[sv.name], s.Median)
			fmt.Fprintf(w, " %s |", fmtSpread(s, m.unit))
		}
		var bad int64
		for _, c := range cells {
			if b := badCount(c); b > 0 {
				bad += b
				failed++
				r.cellNote(c)
			}
		}
		fmt.Fprintf(w, " %d |\n", bad)
	}
	for _, sv := range r.servers {
		if !strings.HasPrefix(sv.name, "sockwasm") || medians[sv.name] == nil {
			continue
		}
		for _, ref := range []string{"node", "bare"} {
			if medians[ref] == nil {
				continue
			}
			fmt.Fprintf(w, "| %s / %s |", sv.name, ref)
			for i, m := range ms {
				if m.noRatio {
					fmt.Fprint(w, " |")
					continue
				}
				fmt.Fprintf(w, " %s |", fmtRatio(ratio(medians[sv.name][i], medians[ref][i])))
			}
			fmt.Fprint(w, " |\n")
		}
	}
	return failed
}

// cellNote records why a cell failed.
func (r *runner) cellNote(c *cell) {
	s := fmt.Sprintf("%s %s round %d %s:", c.Pass, c.Scenario, c.Round, c.Server)
	if c.Error != "" {
		s += " " + c.Error
	}
	if res := c.Result; res != nil {
		s += fmt.Sprintf(" %d errors, %d lost, %d duplicated, %d misdirected, %d bad", res.Errors, res.Lost, res.Duplicated, res.Misdirected, res.Bad)
		if len(res.ErrorSamples) > 0 {
			s += "; first: " + strings.Join(res.ErrorSamples[:min(3, len(res.ErrorSamples))], " | ")
		}
	}
	if len(c.ServerLog) > 0 {
		s += "; server log: " + strings.Join(c.ServerLog, " | ")
	}
	r.notes = append(r.notes, s)
}

// progressLine is printed after each cell.
func progressLine(c *cell) string {
	s := fmt.Sprintf("%-8s %-18s round %d  %-12s", c.Pass, c.Scenario, c.Round, c.Server)
	if c.Result == nil {
		return s + "  FAILED: " + c.Error
	}
	res := c.Result
	switch res.Scenario {
	case "connect":
		s += fmt.Sprintf("  %d connected, %s conn/s, server CPU %.2f s, RSS %s → %s MiB",
			res.Connected, fmtValue(res.ConnPerSec, "rate"), float64(c.ServerCPU),
			fmtValue(float64(c.RSSBefore)/1024, "mib"), fmtValue(float64(c.RSSAfter)/1024, "mib"))
	case "broadcast":
		s += fmt.Sprintf("  %s deliveries/s (%d of %d delivered)", fmtValue(res.DeliveriesPerSec, "rate"), res.Delivered, res.Expected)
	default:
		s += fmt.Sprintf("  %s acks/s (%d sent, %d acked)", fmtValue(res.AcksPerSec, "rate"), res.Sent, res.Acked)
	}
	if res.Latency != nil {
		s += fmt.Sprintf(", p50 %s p99 %s ms", fmtValue(res.Latency.P50, "ms"), fmtValue(res.Latency.P99, "ms"))
	}
	if res.Scenario != "connect" {
		s += fmt.Sprintf(", server CPU %.2f s", float64(c.ServerCPU))
	}
	s += fmt.Sprintf(", gen busy %.2f  [%.1f s]", res.GenBusy, c.Wall)
	if b := badCount(c); b > 0 {
		s += fmt.Sprintf("  BAD: %d", b)
	}
	return s
}
