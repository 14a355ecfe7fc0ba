package plugin

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
)

// Capability groups: host functions a plugin may import only when its
// Settings grant the group.
const (
	// CapKV is the key-value store: kv_get, kv_set, kv_delete, kv_incr,
	// kv_cas.
	CapKV = "kv"
	// CapTimers are the timers: timer_set, timer_cancel.
	CapTimers = "timers"
)

// Host function names of the plugin-state additions to sockwasm_v1.
const (
	fnConfig      = "config"
	fnKVGet       = "kv_get"
	fnKVSet       = "kv_set"
	fnKVDelete    = "kv_delete"
	fnKVIncr      = "kv_incr"
	fnKVCAS       = "kv_cas"
	fnTimerSet    = "timer_set"
	fnTimerCancel = "timer_cancel"
)

// capabilityOf maps a host function to its capability group; functions
// not listed need no grant.
var capabilityOf = map[string]string{
	fnKVGet: CapKV, fnKVSet: CapKV, fnKVDelete: CapKV, fnKVIncr: CapKV, fnKVCAS: CapKV,
	fnTimerSet: CapTimers, fnTimerCancel: CapTimers,
}

// knownCapability reports whether c names a capability group.
func knownCapability(c string) bool { return c == CapKV || c == CapTimers }

// checkGrants refuses a module that imports a host function of a group not
// in grants, or a grant naming no group.
func checkGrants(m wazero.CompiledModule, name string, grants []string) error {
	for _, g := range grants {
		if !knownCapability(g) {
			return fmt.Errorf("granted unknown capability %q (known: %q, %q)", g, CapKV, CapTimers)
		}
	}
	var imports []string
	for _, f := range m.ImportedFunctions() {
		mod, n, _ := f.Import()
		if mod == ImportModule {
			imports = append(imports, mod+"."+n)
		}
	}
	need := capabilitiesOf(imports)
	for _, imp := range imports {
		c, ok := capabilityOf[strings.TrimPrefix(imp, ImportModule+".")]
		if !ok || slices.Contains(grants, c) {
			continue
		}
		all := slices.Clone(grants)
		for _, n := range need {
			if !slices.Contains(all, n) {
				all = append(all, n)
			}
		}
		q := make([]string, len(all))
		for i, g := range all {
			q[i] = fmt.Sprintf("%q", g)
		}
		return fmt.Errorf("imports %s but is not granted %q (add grants = [%s] to [plugin.%s] in server.toml)",
			imp, c, strings.Join(q, ", "), name)
	}
	return nil
}

// capabilitiesOf returns the sorted capability groups of imports
// ("module.name").
func capabilitiesOf(imports []string) []string {
	var out []string
	for _, imp := range imports {
		n, ok := strings.CutPrefix(imp, ImportModule+".")
		if !ok {
			continue
		}
		if c, ok := capabilityOf[n]; ok && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
