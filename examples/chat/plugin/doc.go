// Command plugin is the chat example plugin (plugins/chat.wasm). It serves
// any namespace it is routed to:
//
//   - middleware: auth {"token":"bad"} is refused with
//     {"message":"unauthorized","data":{"code":401}};
//   - echo: acks the same args, or emits echo-back to the sender;
//   - join / leave {room}: ack {ok, room, size};
//   - say {room, text}: said {room, from, text} to the room but the sender;
//   - rooms, whoami, stats: information acks;
//   - ping-me: asks the client back (server-ping, 2 s) and acks the
//     original event with the answer or a timeout, later, from the ack
//     response;
//   - bye: disconnects the socket;
//   - on disconnect, the other members of each room get left {room, id, reason}.
//
// chat_test.go tests the handlers natively with sdk/go/plugintest;
// host/wasmtest tests the built module in a real server.
package main
