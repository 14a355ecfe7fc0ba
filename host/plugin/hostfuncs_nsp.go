package plugin

import (
	"context"

	"github.com/tetratelabs/wazero/api"
)

// fnNsBroadcast is the host function that broadcasts to a namespace named
// by the guest, usable without a socket (INIT, TIMER, engine kinds) as
// well as from a socket's calls: the io.of(nsp).to(room).emit(…) of the
// reference server (sdk/ABI.md, section 4.4).
const fnNsBroadcast = "ns_broadcast"

// hostNsBroadcast is ns_broadcast(nsp_ptr, nsp_len, rooms_ptr, rooms_len,
// except_ptr, except_len, flags, name_ptr, name_len, args_ptr, args_len,
// atts_ptr, atts_len) -> i32. Lists, flags, args and attachments are
// encoded as for broadcast; BROADCAST_EXCEPT_SENDER is ignored (there may
// be no sender, and it would not be in nsp). ERR_NOT_ALLOWED outside a
// call, in MIDDLEWARE and EVENT_MIDDLEWARE, and when the host has no
// namespace lookup (Options.Namespaces); ERR_NOT_FOUND when nsp is not a
// namespace of this server.
func hostNsBroadcast(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	if c == nil || c.kind == KindMiddleware || c.kind == KindEventMiddleware {
		ret(stack, ErrNotAllowed)
		return
	}
	lookup := c.p.opts.Namespaces
	if lookup == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	nsp, code := readName(m, stack[0], stack[1])
	if code != 0 {
		ret(stack, code)
		return
	}
	// BROADCAST_EXCEPT_SENDER is ignored: there may be no sender.
	opts, name, args, atts, code := broadcastParams(c, m, stack[2:], "")
	if code != 0 {
		ret(stack, code)
		return
	}
	n := lookup(nsp)
	if n == nil {
		ret(stack, ErrNotFound)
		return
	}
	ret(stack, errCode(c, n.Broadcast(opts, name, args, atts)))
}
