//go:build wasip1

// Command plugin is the presence example plugin
// (plugins/presence/presence.wasm): who is online in each room, kept in
// the plugin's key-value store (it needs grants = ["kv"]).
//
// Events (args are one JSON object; with an ack, a bad one gets
// {"ok":false,"error":"bad request"}):
//
//   - presence:join {room, name}: joins the Socket.IO room, records the
//     member, sends presence:joined {room, id, name} to the room's other
//     sockets (unless the socket was there already under that name) and
//     acks {ok: true, room, members};
//   - presence:leave {room}: leaves the room, forgets the member, sends
//     presence:left {room, id, name} to the rest when it was a member, and
//     acks {ok: true, room};
//   - presence:list {room}: acks {ok: true, room, members};
//   - on disconnect the socket is forgotten in every room it was in, and
//     presence:left {room, id, name} goes to the rest of each.
//
// members is [{id, name}, ...] sorted by name, then id. room is 1 to 128
// characters, name 1 to 64.
//
// Storage: one key per room, the JSON array [namespace, room], whose value
// is a JSON object {socket id: name}. Instances share nothing but the
// store, and sockets of one room run on different instances in parallel,
// so every change is a compare-and-swap loop: read the object, change it,
// write it only if it is still what was read, else start again. The key of
// a room left empty is deleted.
package main
