package plugin

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rssKiB returns the process's resident set size from /proc, or -1.
func rssKiB(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// A guest that allocates without end is stopped at its memory limit every
// time; its instances are discarded and their memory given back, so the
// server's resident memory stays bounded however often it happens.
func TestMemoryBombBoundsRSS(t *testing.T) {
	const pages = 256 // 16 MiB per instance
	p := loadGuest(t, "faults", Options{Limits: Limits{CallTimeout: 2 * time.Second, MemoryPages: pages}})
	ns := newNS("/")
	s := ns.sock("B", "")
	bomb := func(id uint64) {
		p.event(s, ev("oom", `[]`, id))
		if got := one(t, s.take()); got.kind != "ack" || got.args != `[{"error":"handler failed"}]` {
			t.Fatalf("oom #%d: ack = %+v", id, got)
		}
	}
	bomb(1) // warm up: first instance, code pages
	runtime.GC()
	before := rssKiB(t)
	if before < 0 {
		t.Skip("no /proc/self/status")
	}
	const rounds = 20
	for i := range rounds {
		bomb(uint64(i + 2))
	}
	runtime.GC()
	after := rssKiB(t)
	// Without the limit, or with instances kept after their fault, twenty
	// bombs would hold 20 × 16 MiB or far more. Allow a few live instances.
	if grew := after - before; grew > 6*pages*64 {
		t.Fatalf("RSS grew by %d KiB over %d memory bombs (limit %d KiB per instance)", grew, rounds, pages*64)
	}
	if st := p.Stats(); st.Faults < rounds+1 {
		t.Fatalf("faults = %d, want ≥ %d", st.Faults, rounds+1)
	}
	p.event(s, ev("ok", `["alive"]`, 99))
	if got := one(t, s.take()); got.args != `["alive"]` {
		t.Fatalf("after bombs: %+v", got)
	}
}
