package plugin

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"

	"github.com/sockwasm/sockwasm/sdk/abi"
)

// Capability groups: host functions a plugin may import only when its
// Settings grant the group (abi.Func.Capability).
const (
	// CapKV is the key-value store: kv_get, kv_set, kv_delete, kv_incr,
	// kv_cas.
	CapKV = abi.CapKV
	// CapTimers are the timers: timer_set, timer_cancel.
	CapTimers = abi.CapTimers
	// CapHTTP is outbound HTTP: http_request, to the URL prefixes of
	// Settings.HTTPAllow.
	CapHTTP = abi.CapHTTP
)

// checkGrants refuses a module that imports a host function of a group not
// in grants, or a grant that names nothing.
func checkGrants(m wazero.CompiledModule, name string, grants []string) error {
	for _, g := range grants {
		if err := abi.CheckGrant(g); err != nil {
			return fmt.Errorf("granted %w", err)
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
		c := capabilityOf(strings.TrimPrefix(imp, ImportModule+"."))
		if c == "" || slices.Contains(grants, c) {
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

// capabilityOf returns the group of host function name, "" when it needs
// no grant.
func capabilityOf(name string) string {
	if f, ok := abi.FuncByName(name); ok {
		return f.Capability()
	}
	return ""
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
		if c := capabilityOf(n); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
