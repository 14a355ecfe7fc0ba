package main

import (
	"math"
	"strings"
	"testing"
)

func TestFmtValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want string
	}{
		{123456, "rate", "123.5k"},
		{1234, "rate", "1.23k"},
		{999, "rate", "999"},
		{2.5e6, "rate", "2.50M"},
		{99.99, "us", "100"},
		{12.345, "ms", "12.3"},
		{0.01234, "ms", "0.0123"},
		{0, "us", "0"},
		{0.5, "frac", "0.50"},
		{math.NaN(), "ms", "—"},
	} {
		if got := fmtValue(tc.v, tc.unit); got != tc.want {
			t.Errorf("fmtValue(%v, %s) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
}

func TestProcParsing(t *testing.T) {
	stat := []byte("4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 150 50 0 0 20 0 9 0 100 1000000 500 18446744073709551615\n")
	if got := parseStatCPU(stat); got != 2 {
		t.Fatalf("cpu = %v, want 2 (150 + 50 ticks)", got)
	}
	if got := parseStatCPU([]byte("garbage")); !math.IsNaN(got) {
		t.Fatalf("cpu of garbage = %v", got)
	}
	status := []byte("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n")
	if rss, hwm := parseStatusKiB(status, "VmRSS"), parseStatusKiB(status, "VmHWM"); rss != 1024 || hwm != 2048 {
		t.Fatalf("rss %v hwm %v", rss, hwm)
	}
	if got := parseStatusKiB(status, "VmSwap"); !math.IsNaN(got) {
		t.Fatalf("missing key = %v", got)
	}
}

func TestSelectScenarios(t *testing.T) {
	all := scenarios(false)
	sel, err := selectScenarios(all, "echo,connect-50k")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range sel {
		names = append(names, s.name)
	}
	if got := strings.Join(names, ","); got != "connect-50k,echo-64B-x1,echo-64B-x4,echo-4KiB-x1,echo-4KiB-x4" {
		t.Fatalf("selected %s", got)
	}
	if _, err := selectScenarios(all, "nope"); err == nil {
		t.Fatal("unknown scenario accepted")
	}
	for _, s := range all {
		if s.name == "connect-50k" && s.conns != 50000 {
			t.Fatalf("connect-50k opens %d", s.conns)
		}
	}
}
