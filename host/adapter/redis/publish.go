package redis

import (
	"context"
	"sync"
	"time"
)

// publication is one message to publish.
type publication struct {
	channel string
	payload []byte
}

// publishQueue holds the messages waiting for Redis, in emit order,
// bounded in bytes and in number. Adding never blocks.
type publishQueue struct {
	mu       sync.Mutex
	items    []publication
	bytes    int
	maxBytes int
	maxLen   int
	dropped  int // since the last drop was logged
	closed   bool
	ready    chan struct{} // cap 1: items were added
}

func (q *publishQueue) init(maxBytes, maxLen int) {
	q.maxBytes, q.maxLen = maxBytes, maxLen
	q.ready = make(chan struct{}, 1)
}

// push queues p; it reports false (and counts a drop) when the queue is
// full or closed.
func (q *publishQueue) push(p publication) bool {
	q.mu.Lock()
	if q.closed || len(q.items) >= q.maxLen || q.bytes+len(p.payload) > q.maxBytes {
		q.dropped++
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, p)
	q.bytes += len(p.payload)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// peek returns up to n queued messages without removing them.
func (q *publishQueue) peek(n int) []publication {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.items))
	return append([]publication(nil), q.items[:n]...)
}

// drop removes the first n messages (published).
func (q *publishQueue) drop(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, p := range q.items[:n] {
		q.bytes -= len(p.payload)
	}
	q.items = q.items[n:]
	if len(q.items) == 0 {
		q.items = nil // let a large backlog's array go
	}
}

// takeDropped returns and resets the count of dropped messages.
func (q *publishQueue) takeDropped() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.dropped
	q.dropped = 0
	return n
}

func (q *publishQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.items, q.bytes = nil, 0
	q.mu.Unlock()
}

// publishBatch bounds the messages of one pipeline.
const publishBatch = 256

// enqueue queues a message for the other nodes. It never blocks: when the
// queue is full (Redis slow or away) the message is dropped and the drop
// is logged, at most once a second.
func (c *Cluster) enqueue(channel string, payload []byte) {
	c.queue.push(publication{channel: channel, payload: payload})
}

// publish sends the queued messages in order, in pipelines on one
// connection (Redis keeps one connection's order, which keeps each
// sender's order across nodes). While Redis is away it retries the same
// batch with a growing pause.
func (c *Cluster) publish() {
	defer c.wg.Done()
	backoff := 50 * time.Millisecond
	lastDropLog := time.Time{}
	for {
		if n := c.queue.takeDropped(); n > 0 {
			if time.Since(lastDropLog) >= time.Second {
				c.log.Warn().Int("dropped", n).Int("max_queue_bytes", c.opts.MaxQueueBytes).
					Msg("cluster messages dropped: the publish queue is full (redis slow or away)")
				lastDropLog = time.Now()
			}
		}
		batch := c.queue.peek(publishBatch)
		if len(batch) == 0 {
			select {
			case <-c.queue.ready:
				continue
			case <-c.ctx.Done():
				return
			}
		}
		ctx, cancel := context.WithTimeout(c.ctx, 3*time.Second)
		pipe := c.rdb.Pipeline()
		for _, p := range batch {
			if c.opts.Sharded {
				pipe.SPublish(ctx, p.channel, p.payload)
			} else {
				pipe.Publish(ctx, p.channel, p.payload)
			}
		}
		cmds, err := pipe.Exec(ctx)
		cancel()
		if c.ctx.Err() != nil {
			return
		}
		if err != nil {
			// Those that went through are not sent twice.
			done := 0
			for done < len(cmds) && cmds[done].Err() == nil {
				done++
			}
			c.queue.drop(done)
			c.setDown(err)
			select {
			case <-time.After(backoff):
			case <-c.ctx.Done():
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		c.queue.drop(len(batch))
	}
}
