package plugin

import (
	"context"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/sockwasm/sockwasm/host/internal/logsafe"
	"github.com/sockwasm/sockwasm/sdk/abi"
)

// hostNsBroadcast is ns_broadcast(nsp_ptr, nsp_len, rooms_ptr, rooms_len,
// except_ptr, except_len, flags, name_ptr, name_len, args_ptr, args_len,
// atts_ptr, atts_len) -> i32: the io.of(nsp).to(room).emit(…) of the
// reference server (sdk/ABI.md, section 4.4). Lists, flags, args and
// attachments are encoded as for broadcast; BROADCAST_EXCEPT_SENDER is
// ignored (there may be no sender, and it would not be in nsp).
// ERR_NOT_ALLOWED when the plugin neither serves nsp nor is granted
// "emit:nsp", and when the host has no namespace lookup
// (Options.Namespaces); ERR_NOT_FOUND when nsp is not a namespace of this
// server.
func hostNsBroadcast(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	nsp, code := targetNamespace(c, m, stack[0], stack[1])
	if code != 0 {
		ret(stack, code)
		return
	}
	opts, name, args, atts, code := broadcastParams(c, m, stack[2:], "")
	if code != 0 {
		ret(stack, code)
		return
	}
	n := c.p.opts.Namespaces(nsp)
	if n == nil {
		ret(stack, ErrNotFound)
		return
	}
	ret(stack, errCode(c, n.Broadcast(opts, name, args, atts)))
}

// targetNamespace reads the namespace name a call sends into (ns_broadcast,
// server_emit) and checks the call may: ERR_NOT_ALLOWED when the host has
// no namespace lookup (Options.Namespaces), or when the plugin neither
// serves nsp nor is granted "emit:nsp" (the grant to add is logged).
func targetNamespace(c *call, m api.Module, ptr, n uint64) (string, int32) {
	if c.p.opts.Namespaces == nil {
		return "", ErrNotAllowed
	}
	nsp, code := readName(m, ptr, n)
	if code != 0 {
		return "", code
	}
	if !c.p.mayEmitTo(c.v, nsp) {
		q := logsafe.String(nsp, 128)
		c.why = "namespace " + q + " is neither served by the plugin nor granted (grants = [\"" + abi.GrantEmitPrefix + q + "\"])"
		return "", ErrNotAllowed
	}
	return nsp, 0
}

// mayCloseSession says whether a disconnect of p's that asks to close
// whole sessions may: only when the routing uses p in every namespace
// (Options.ServesAll). Otherwise the socket leaves its namespace only,
// and that is logged (the plugin's warnings limiter).
func (c *call) mayCloseSession(f abi.Func) bool {
	p := c.v.p
	if p.opts.ServesAll != nil && p.opts.ServesAll(p.name) {
		return true
	}
	if p.warns.allow(p.limits().LogLinesPerSecond) {
		c.v.log.Warn().Str("func", f.String()).
			Msg("session kept open: the plugin is not routed in every namespace, so it disconnects its sockets from their namespace only")
	}
	return false
}

// mayEmitTo reports whether version v of p may send into namespace nsp:
// the routing serves nsp with p, or v's grants name it ("emit:/admin"), or
// a pattern of them does ("emit:/tenant-*").
func (p *Plugin) mayEmitTo(v *version, nsp string) bool {
	if p.opts.Serves != nil && p.opts.Serves(p.name, nsp) {
		return true
	}
	for _, g := range v.grants {
		pat, ok := strings.CutPrefix(g, abi.GrantEmitPrefix)
		if !ok {
			continue
		}
		if pat == nsp || strings.HasSuffix(pat, "*") && strings.HasPrefix(nsp, strings.TrimSuffix(pat, "*")) {
			return true
		}
	}
	return false
}
