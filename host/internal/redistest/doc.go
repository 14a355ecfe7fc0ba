// Package redistest runs a real redis-server for the test that asks for
// one: on a free loopback port, without persistence, in the test's own
// temporary folder, stopped when the test ends. Cluster tests use it to
// put sockwasm nodes and Node.js socket.io nodes (host/internal/nodetest)
// on one Redis, and to take that Redis away and bring it back on the same
// address (Kill, Restart).
//
//	func TestCluster(t *testing.T) {
//		r := redistest.Start(t)
//		… connect nodes to r.URL() …
//		r.Kill()     // a Redis outage
//		r.Restart(t) // same port, empty data set
//	}
//
// When redis-server is not on PATH the test is skipped, or fails when the
// environment variable CI is "true" (CI installs it: make deps).
//
// Do sends one command over a fresh connection and decodes the RESP2
// reply, enough for checks such as PUBSUB NUMSUB without a client library.
package redistest
