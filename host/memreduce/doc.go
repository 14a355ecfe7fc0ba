// Package memreduce returns the memory of a burst to the operating system
// once the process has gone quiet, as V8's memory reducer does for
// Node.js.
//
// Go's garbage collector runs when the heap has grown by GOGC percent
// since the last collection. After a burst of work — thousands of clients
// connecting at once, a reconnect storm after a deploy — the garbage the
// burst left waits for the next collection, which an idle server does not
// trigger for minutes, and the pages of the heap it frees stay mapped
// until the scavenger returns them. So a server that has just taken 10 000
// connections holds several KiB per connection more than it needs while
// it idles. Run watches the allocation rate and, when it drops below a
// threshold after at least MinAllocated bytes have been allocated since
// its last release, collects and returns free memory (debug.FreeOSMemory)
// once. A busy server never pays for it; a quiet one pays one collection
// per burst.
package memreduce
