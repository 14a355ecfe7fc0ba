// Package nodetest runs the Node.js scripts of test/cluster (node.mjs, a
// socket.io 4.8 server with @socket.io/redis-adapter; emitter.mjs, an
// @socket.io/redis-emitter) as child processes of a Go test, so that
// cluster tests can mix them with sockwasm nodes on one Redis
// (host/internal/redistest).
//
//	r := redistest.Start(t)
//	node := nodetest.Start(t, "node.mjs", map[string]string{"REDIS_URL": r.URL()})
//	em := nodetest.Start(t, "emitter.mjs", map[string]string{"REDIS_URL": r.URL()})
//	em.Call(t, "emit", map[string]any{"event": "news", "args": []any{1}})
//	sockets := node.Call(t, "fetchSockets", map[string]any{"nsp": "/"})
//	ev := node.WaitEvent(t, nodetest.Field("serverSideEvent", "hello"), 2*time.Second)
//
// The scripts speak JSON lines: a command {"id":N,"cmd":NAME,…args} on
// stdin gets one answer {"id":N,"result":…} or {"id":N,"error":"…"} on
// stdout; every other stdout line (no "id") is an event, the first being
// {"ready":true,…}. test/cluster/README.md lists the commands.
//
// The npm packages must be installed (npm ci in test/cluster, done by make
// deps). Without them, or without node on PATH, Start skips the test, or
// fails it when the environment variable CI is "true".
package nodetest
