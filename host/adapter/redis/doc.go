// Package redis is the cluster adapter of sockwasm: nodes share rooms,
// broadcasts and room operations through Redis, speaking the wire format
// of @socket.io/redis-adapter 8.3 (protocol/redisadapter), so that
// sockwasm nodes, Node.js socket.io nodes with that adapter and
// @socket.io/redis-emitter processes form one cluster.
//
// A Cluster holds the Redis connections of a server (one that publishes
// and runs commands, one that subscribes) and makes the socketio.Adapter
// of each namespace (Cluster.NewAdapter). Rooms stay local: a broadcast
// is delivered to this node's sockets at once and published on the
// namespace's channel (the room's, for a single room); each node delivers
// what others publish to its own sockets. Requests (fetchSockets, remote
// join, leave and disconnect, broadcasts with acks) travel on the
// namespace's request channel, answers on its response channel; a node
// counts the others as the reference does, with PUBSUB NUMSUB on the
// request channel.
//
// Nothing local waits for Redis: publishing goes through a bounded queue
// drained by one goroutine in order (one connection, pipelined), so each
// sender's order holds across nodes; while Redis is away the node serves
// its own sockets, logs the outage once and its end once, and go-redis
// reconnects and subscribes again. Requests that need other nodes end
// with ErrTimeout or ErrUnavailable, never hang. docs/CLUSTER.md
// describes the format and the behaviour.
package redis
