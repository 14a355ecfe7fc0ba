package plugin

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/sockwasm/sockwasm/host/internal/logsafe"
	"github.com/sockwasm/sockwasm/sdk/abi"
)

// maxServerCalls bounds the SERVER_EVENT and SERVER_ACK calls waiting for
// a plugin: other nodes decide how many server-side events come, so the
// queue drops beyond it (logged) rather than grow.
const maxServerCalls = 1024

// serverQueue runs a plugin's calls that belong to no client — SERVER_EVENT
// and SERVER_ACK — one at a time, in arrival order, on a goroutine started
// while there are some (never on the goroutine that receives from the
// other nodes).
type serverQueue struct {
	mu      sync.Mutex
	calls   []func()
	running bool
	closed  bool
	idle    *sync.Cond // signaled when the drainer stops
}

// post queues f; it reports false when the queue is full or closed.
func (q *serverQueue) post(f func()) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(q.calls) >= maxServerCalls {
		return false
	}
	q.calls = append(q.calls, f)
	if !q.running {
		q.running = true
		go q.drain()
	}
	return true
}

func (q *serverQueue) drain() {
	for {
		q.mu.Lock()
		if len(q.calls) == 0 || q.closed {
			q.calls = nil
			q.running = false
			if q.idle != nil {
				q.idle.Broadcast()
			}
			q.mu.Unlock()
			return
		}
		f := q.calls[0]
		q.calls[0] = nil
		q.calls = q.calls[1:]
		q.mu.Unlock()
		f()
	}
}

// stop drops the queued calls and waits for the one running, if any
// (bounded by its deadline).
func (q *serverQueue) stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	if q.idle == nil {
		q.idle = sync.NewCond(&q.mu)
	}
	for q.running {
		q.idle.Wait()
	}
}

// ServerEvent hands the plugin a server-side event another node sent to
// namespace nsp: a SERVER_EVENT call, queued behind the plugin's other
// such calls. ack, when not nil, sends the plugin's answer (server_ack);
// a plugin that does not answer lets the sender time out.
func (p *Plugin) ServerEvent(nsp, name string, args []byte, ack func(answer []byte)) {
	if p.closed.Load() {
		return
	}
	if !p.server.post(func() { p.serverEventCall(nsp, name, args, ack) }) {
		p.dropServerCall("server-side event " + logsafe.String(name, 128))
	}
}

func (p *Plugin) dropServerCall(what string) {
	if p.warns.allow(p.limits().LogLinesPerSecond) {
		p.log.Warn().Int("limit", maxServerCalls).Msg(what + " dropped: the plugin's queue of server calls is full")
	}
}

// serverEventCall makes the SERVER_EVENT call.
func (p *Plugin) serverEventCall(nsp, name string, args []byte, ack func([]byte)) {
	c := p.newCall(abi.ServerEvent)
	defer freeCall(c)
	c.event = name
	ff := frameFields{namespace: nsp, name: name, args: args}
	if ack != nil {
		c.serverAck = ack
		ff.flags |= FlagHasAck
		ff.ackID = serverAckID
	}
	c.frame = encodeFrame(c.frame, c.kind, &ff)
	p.invoke(c)
}

// serverAckID is the ack id of a SERVER_EVENT that expects an answer: one
// call answers one event, so the id only confirms the guest means it.
const serverAckID = 1

// hostServerAck is server_ack(id i64, args_ptr, args_len) -> i32: answers
// the SERVER_EVENT of this call with the first element of args (a JSON
// array, no binary), the one value a reference server's callback passes
// back. ERR_UNKNOWN_ACK when the event expects no answer or was answered.
func hostServerAck(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	if c.serverAck == nil || stack[0] != serverAckID {
		ret(stack, ErrUnknownAck)
		return
	}
	args, code := copyBounded(c, m, stack[1], stack[2], c.v.lim.MaxEmitBytes, "args over max_emit_bytes")
	if code != 0 {
		ret(stack, code)
		return
	}
	if !isJSONArray(args) {
		ret(stack, ErrInvalid)
		return
	}
	var list []json.RawMessage
	if err := json.Unmarshal(args, &list); err != nil {
		ret(stack, ErrInvalid)
		return
	}
	var answer []byte
	if len(list) > 0 {
		answer = list[0]
	}
	ack := c.serverAck
	c.serverAck = nil
	ack(answer)
	ret(stack, 0)
}

// hostServerEmit is server_emit(nsp_ptr, nsp_len, name_ptr, name_len,
// args_ptr, args_len, timeout_ms, ctx_ptr, ctx_len) -> i32: Socket.IO's
// io.of(nsp).serverSideEmit(name, ...args), to the other nodes of the
// cluster. args is a JSON array without binary. With timeout_ms > 0 every
// other node is asked for one answer: a SERVER_ACK call brings them
// later, with ctx, once all have come (ACK_OK) or at timeout_ms
// (ACK_TIMEOUT, those that came). The namespace rule is ns_broadcast's.
// Answers that come at once (no other node) chain as for
// broadcast_with_ack (max_call_chain).
func hostServerEmit(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	nsp, code := targetNamespace(c, m, stack[0], stack[1])
	if code != 0 {
		ret(stack, code)
		return
	}
	name, code := readName(m, stack[2], stack[3])
	if code != 0 {
		ret(stack, code)
		return
	}
	args, code := copyBounded(c, m, stack[4], stack[5], c.v.lim.MaxEmitBytes, "args over max_emit_bytes")
	if code == 0 && !isJSONArray(args) {
		code = ErrInvalid
	}
	var timeout time.Duration
	if code == 0 && uint32(stack[6]) != 0 {
		timeout, code = ackTimeout(stack[6])
	}
	var actx []byte
	if code == 0 && timeout > 0 {
		if c.chain == nil {
			c.chain = &chainBudget{left: c.v.lim.MaxCallChain}
		}
		if c.chain.left <= 0 {
			code = c.limited("calls answered at once, one after another, over max_call_chain")
		} else {
			actx, code = ackContext(c, m, stack[7], stack[8])
		}
	}
	if code == 0 {
		code = c.spend()
	}
	if code != 0 {
		ret(stack, code)
		return
	}
	n := c.p.opts.Namespaces(nsp)
	if n == nil {
		if timeout > 0 {
			c.p.releaseAckContext(len(actx))
		}
		ret(stack, ErrNotFound)
		return
	}
	if timeout == 0 {
		_, err := n.ServerSideEmit(name, args, 0, nil)
		ret(stack, errCode(c, err))
		return
	}
	p, chain := c.p, c.chain
	_, err := n.ServerSideEmit(name, args, timeout, func(answers [][]byte, err error) {
		// No answer and no error: no other node, an answer at once; it
		// takes from the chain of the call that asked.
		var next *chainBudget
		if len(answers) == 0 && err == nil {
			next = chain
		}
		p.serverAckCall(nsp, actx, answers, err, next)
	})
	if err != nil {
		p.releaseAckContext(len(actx))
	}
	ret(stack, errCode(c, err))
}

// serverAckCall queues the SERVER_ACK call that brings the answers to a
// server_emit. chain, when the answers came at once, is the asking call's
// budget.
func (p *Plugin) serverAckCall(nsp string, actx []byte, answers [][]byte, err error, chain *chainBudget) {
	ok := p.server.post(func() {
		p.releaseAckContext(len(actx))
		if chain != nil {
			// Each server_emit checked the budget was not spent; a call
			// that asked several times may take it below zero once.
			chain.left--
		}
		c := p.newCall(abi.ServerAck)
		defer freeCall(c)
		c.chain = chain
		ff := frameFields{namespace: nsp, args: encodeAnswers(answers), context: actx}
		if err != nil {
			ff.status = AckTimeout
		}
		c.frame = encodeFrame(c.frame, c.kind, &ff)
		p.invoke(c)
	})
	if !ok {
		p.releaseAckContext(len(actx))
		p.dropServerCall("answers to a server-side emit")
	}
}

// encodeAnswers encodes the other nodes' answers as a JSON array, an
// absent answer as null.
func encodeAnswers(answers [][]byte) []byte {
	n := 2
	for _, a := range answers {
		n += len(a) + 1
	}
	buf := make([]byte, 0, n)
	buf = append(buf, '[')
	for i, a := range answers {
		if i > 0 {
			buf = append(buf, ',')
		}
		if len(a) == 0 {
			a = []byte("null")
		}
		buf = append(buf, a...)
	}
	return append(buf, ']')
}
