package redis

import (
	"context"

	wire "github.com/sockwasm/sockwasm/protocol/redisadapter"
)

// request is one of this node's requests to the others, waiting for
// answers on the response channel.
type request struct {
	// handle takes one answer; it reports whether the request wants no
	// more (it is then forgotten).
	handle func(wire.Response) bool
	done   chan error // cap 1: the request was ended early (Close)
}

func (r *request) finish(err error) {
	select {
	case r.done <- err:
	default:
	}
}

// register records request id before it is published, so that no answer
// is missed.
func (c *Cluster) register(id string, handle func(wire.Response) bool) *request {
	r := &request{handle: handle, done: make(chan error, 1)}
	c.mu.Lock()
	if c.closed {
		r.finish(errClosed)
	} else {
		c.requests[id] = r
	}
	c.mu.Unlock()
	return r
}

// forget ends request id: later answers are ignored.
func (c *Cluster) forget(id string) {
	c.mu.Lock()
	delete(c.requests, id)
	c.mu.Unlock()
}

// ours reports whether id is one of this node's requests (a node receives
// its own requests too).
func (c *Cluster) ours(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.requests[id]
	return ok
}

// onResponse hands an answer to the request it answers.
func (c *Cluster) onResponse(a *Adapter, payload []byte) {
	resp, err := wire.DecodeResponse(payload, a.limits())
	if err != nil {
		c.log.Debug().Err(err).Msg("response from redis refused")
		return
	}
	c.mu.Lock()
	r := c.requests[resp.ResponseTo()]
	c.mu.Unlock()
	if r != nil && r.handle(resp) {
		c.forget(resp.ResponseTo())
	}
}

// async runs f on a goroutine the cluster owns: Close cancels its context
// and waits for it. Once the cluster is closed f runs at once, with a
// canceled context.
func (c *Cluster) async(f func(ctx context.Context)) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		f(c.ctx)
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		f(c.ctx)
	}()
}
