//! echo-rust: a sockwasm plugin in Rust, with sdk/rust/sockwasm.rs and no
//! crates.
//!
//!   echo ...args      acks the same arguments (binary attachments forwarded)
//!   join ["room"]     joins the room; acks [size of the room]
//!   say ["room",msg]  sends "said" [msg] to the others in the room; acks ["ok"]
//!   on connection     emits "hello" [socket id]
//!
//! Build: rustc --edition 2021 --target wasm32-wasi --crate-type cdylib -O -o build/echo-rust.wasm echo.rs

#[path = "../../sdk/rust/sockwasm.rs"]
mod sockwasm;

use sockwasm::{json, Attachments, Call, Kind, BROADCAST_EXCEPT_SENDER};

fn handle(c: &Call) -> i32 {
    match c.kind() {
        Kind::Connect => {
            let _ = sockwasm::emit("hello", &json::array(&[&json::string(c.socket_id())]));
        }
        Kind::Event => event(c),
        _ => {} // every other kind: nothing to do
    }
    0
}

fn event(c: &Call) {
    let args = json::items(c.args());
    let answer = match c.event() {
        "echo" => {
            if c.has_ack() {
                let _ = sockwasm::ack_with(c.ack_id(), c.args(), &Attachments::forward(c));
            }
            return;
        }
        "join" => match args.first().and_then(|v| json::as_string(v)) {
            Some(room) if !room.is_empty() => {
                let n = sockwasm::join(&room).and_then(|_| sockwasm::room_size(&room)).unwrap_or_else(|e| e.0);
                format!("[{}]", n).into_bytes()
            }
            _ => b"[{\"error\":\"want [room]\"}]".to_vec(),
        },
        "say" => match (args.get(0).and_then(|v| json::as_string(v)), args.get(1).and_then(|v| json::as_string(v))) {
            (Some(room), Some(text)) => {
                let said = json::array(&[&json::string(&text)]);
                match sockwasm::broadcast(&[&room], &[], BROADCAST_EXCEPT_SENDER, "said", &said) {
                    Ok(()) => b"[\"ok\"]".to_vec(),
                    Err(e) => format!("[{{\"error\":\"{}\"}}]", e.name()).into_bytes(),
                }
            }
            _ => b"[{\"error\":\"want [room, text]\"}]".to_vec(),
        },
        _ => return,
    };
    if c.has_ack() {
        let _ = sockwasm::ack(c.ack_id(), &answer);
    }
}

sockwasm_plugin!(handle);
