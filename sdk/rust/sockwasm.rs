//! sockwasm: the plugin ABI, version 1 (sdk/ABI.md), for Rust guests.
//!
//! One file, no crates: put it next to the plugin's source as a module
//! (`mod sockwasm;`) and build for wasm32-wasi, with Debian's rustc 1.63
//! and libstd-rust-dev-wasm32 or any later toolchain:
//!
//! ```text
//! rustc --edition 2021 --target wasm32-wasi --crate-type cdylib -O -o build/x.wasm x.rs
//! ```
//!
//! A plugin names its handler with `sockwasm_plugin!`:
//!
//! ```ignore
//! mod sockwasm;
//! use sockwasm::{Call, Kind};
//!
//! fn handle(c: &Call) -> i32 {
//!     if c.kind() == Kind::Event && c.event() == "echo" && c.has_ack() {
//!         let _ = sockwasm::ack(c.ack_id(), c.args());
//!     }
//!     0
//! }
//! sockwasm_plugin!(handle);
//! ```
//!
//! Host functions return `Result<_, Error>`; `Error` is the ABI's negative
//! code (`Error::LIMIT` and so on). Arguments are JSON arrays passed as
//! bytes; `json` has what a handler needs to read and write them.
#![allow(dead_code)]

/// Call kinds: the first parameter of sockwasm_handle (ABI.md section 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Middleware = 1,
    Connect = 2,
    Event = 3,
    AckResponse = 4,
    Disconnect = 5,
    EngineOpen = 6,
    EngineMessage = 7,
    EngineClose = 8,
    EventMiddleware = 9,
    Init = 10,
    Timer = 11,
    ServerEvent = 12,
    ServerAck = 13,
    HttpResponse = 14,
    /// A kind this SDK does not know (a newer host): return 0.
    Unknown = 0,
}

impl Kind {
    fn from(k: i32) -> Kind {
        match k {
            1 => Kind::Middleware,
            2 => Kind::Connect,
            3 => Kind::Event,
            4 => Kind::AckResponse,
            5 => Kind::Disconnect,
            6 => Kind::EngineOpen,
            7 => Kind::EngineMessage,
            8 => Kind::EngineClose,
            9 => Kind::EventMiddleware,
            10 => Kind::Init,
            11 => Kind::Timer,
            12 => Kind::ServerEvent,
            13 => Kind::ServerAck,
            14 => Kind::HttpResponse,
            _ => Kind::Unknown,
        }
    }
}

/// Input frame flags (u16 at offset 2).
pub const FLAG_HAS_ACK: u16 = 1;
pub const FLAG_BINARY: u16 = 2;
pub const FLAG_BROADCAST_ACK: u16 = 4;

/// Ack status of ACK_RESPONSE and SERVER_ACK.
pub const ACK_OK: u32 = 0;
pub const ACK_TIMEOUT: u32 = 1;
pub const ACK_DISCONNECTED: u32 = 2;

/// Flags of broadcast and ns_broadcast.
pub const BROADCAST_EXCEPT_SENDER: u32 = 1;
pub const BROADCAST_VOLATILE: u32 = 2;
pub const BROADCAST_COMPRESS: u32 = 4;

/// Flags of kv_cas.
pub const KV_OLD_ABSENT: u32 = 1;
pub const KV_NEW_ABSENT: u32 = 2;

/// Levels of `log`.
pub const LOG_DEBUG: i32 = 0;
pub const LOG_INFO: i32 = 1;
pub const LOG_WARN: i32 = 2;
pub const LOG_ERROR: i32 = 3;

/// A host function's error: the ABI's negative result code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(pub i32);

impl Error {
    pub const MEMORY: Error = Error(-1);
    pub const INVALID: Error = Error(-2);
    pub const NOT_FOUND: Error = Error(-3);
    pub const NOT_ALLOWED: Error = Error(-4);
    pub const DISCONNECTED: Error = Error(-5);
    pub const LIMIT: Error = Error(-6);
    pub const UNKNOWN_ACK: Error = Error(-7);
    pub const FAILED: Error = Error(-8);
    pub const TIMEOUT: Error = Error(-9);
    pub const UNAVAILABLE: Error = Error(-10);

    /// The code's name as ABI.md spells it ("ERR_LIMIT").
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 10] = [
            "ERR_MEMORY", "ERR_INVALID", "ERR_NOT_FOUND", "ERR_NOT_ALLOWED", "ERR_DISCONNECTED",
            "ERR_LIMIT", "ERR_UNKNOWN_ACK", "ERR_FAILED", "ERR_TIMEOUT", "ERR_UNAVAILABLE",
        ];
        if self.0 <= -1 && self.0 >= -10 {
            NAMES[(-self.0 - 1) as usize]
        } else {
            "ERR_UNKNOWN"
        }
    }
}

/// The host functions of module sockwasm_v1 (ABI.md section 4), with the
/// host's signatures: pointers and lengths are i32, 64-bit values i64.
pub mod host {
    #[link(wasm_import_module = "sockwasm_v1")]
    extern "C" {
        pub fn read_input(buf: *mut u8, limit: u32) -> i32;
        pub fn read_attachment(index: u32, buf: *mut u8, limit: u32) -> i32;
        pub fn ack(ack_id: u64, args: *const u8, args_len: u32, atts: *const u8, atts_len: u32) -> i32;
        pub fn emit(name: *const u8, name_len: u32, args: *const u8, args_len: u32, atts: *const u8, atts_len: u32) -> i32;
        pub fn broadcast(rooms: *const u8, rooms_len: u32, except: *const u8, except_len: u32, flags: u32,
                         name: *const u8, name_len: u32, args: *const u8, args_len: u32, atts: *const u8,
                         atts_len: u32) -> i32;
        pub fn emit_with_ack(name: *const u8, name_len: u32, args: *const u8, args_len: u32, atts: *const u8,
                             atts_len: u32, timeout_ms: u32, ctx: *const u8, ctx_len: u32) -> i32;
        pub fn join(room: *const u8, room_len: u32) -> i32;
        pub fn leave(room: *const u8, room_len: u32) -> i32;
        pub fn disconnect(close_session: i32) -> i32;
        pub fn socket_id(buf: *mut u8, limit: u32) -> i32;
        pub fn namespace(buf: *mut u8, limit: u32) -> i32;
        pub fn auth(buf: *mut u8, limit: u32) -> i32;
        pub fn transport(buf: *mut u8, limit: u32) -> i32;
        pub fn rooms(buf: *mut u8, limit: u32) -> i32;
        pub fn room_size(room: *const u8, room_len: u32) -> i32;
        pub fn client_count() -> i32;
        pub fn reject(msg: *const u8, msg_len: u32, data: *const u8, data_len: u32) -> i32;
        pub fn engine_send(data: *const u8, data_len: u32, binary: i32) -> i32;
        pub fn log(level: i32, msg: *const u8, msg_len: u32);
        pub fn handshake(buf: *mut u8, limit: u32) -> i32;
        pub fn socket_data(buf: *mut u8, limit: u32) -> i32;
        pub fn set_socket_data(data: *const u8, data_len: u32) -> i32;
        pub fn broadcast_with_ack(rooms: *const u8, rooms_len: u32, except: *const u8, except_len: u32, flags: u32,
                                  name: *const u8, name_len: u32, args: *const u8, args_len: u32, atts: *const u8,
                                  atts_len: u32, timeout_ms: u32, ctx: *const u8, ctx_len: u32) -> i32;
        pub fn fetch_sockets(rooms: *const u8, rooms_len: u32, except: *const u8, except_len: u32, buf: *mut u8,
                             limit: u32) -> i32;
        pub fn sockets_join(rooms: *const u8, rooms_len: u32, except: *const u8, except_len: u32, join: *const u8,
                            join_len: u32) -> i32;
        pub fn sockets_leave(rooms: *const u8, rooms_len: u32, except: *const u8, except_len: u32, leave: *const u8,
                             leave_len: u32) -> i32;
        pub fn disconnect_sockets(rooms: *const u8, rooms_len: u32, except: *const u8, except_len: u32,
                                  close_session: i32) -> i32;
        pub fn reject_event(msg: *const u8, msg_len: u32, data: *const u8, data_len: u32) -> i32;
        pub fn config(buf: *mut u8, limit: u32) -> i32;
        pub fn kv_get(key: *const u8, key_len: u32, buf: *mut u8, limit: u32) -> i32;
        pub fn kv_set(key: *const u8, key_len: u32, val: *const u8, val_len: u32, ttl_ms: i64) -> i32;
        pub fn kv_delete(key: *const u8, key_len: u32) -> i32;
        pub fn kv_incr(key: *const u8, key_len: u32, delta: i64, out: *mut i64) -> i32;
        pub fn kv_cas(key: *const u8, key_len: u32, old: *const u8, old_len: u32, new: *const u8, new_len: u32,
                      flags: u32, ttl_ms: i64) -> i32;
        pub fn timer_set(delay_ms: u32, repeat: i32, ctx: *const u8, ctx_len: u32) -> i32;
        pub fn timer_cancel(id: i32) -> i32;
        pub fn ns_broadcast(nsp: *const u8, nsp_len: u32, rooms: *const u8, rooms_len: u32, except: *const u8,
                            except_len: u32, flags: u32, name: *const u8, name_len: u32, args: *const u8,
                            args_len: u32, atts: *const u8, atts_len: u32) -> i32;
        pub fn server_emit(nsp: *const u8, nsp_len: u32, name: *const u8, name_len: u32, args: *const u8,
                           args_len: u32, timeout_ms: u32, ctx: *const u8, ctx_len: u32) -> i32;
        pub fn server_ack(id: u64, args: *const u8, args_len: u32) -> i32;
        pub fn http_request(req: *const u8, req_len: u32, body: *const u8, body_len: u32, ctx: *const u8,
                            ctx_len: u32) -> i32;
    }
}

/// Defines the plugin's two exports: the ABI version marker, and
/// sockwasm_handle, which reads the call's input frame and hands it to
/// `$handler(&Call) -> i32` (0 for success).
#[macro_export]
macro_rules! sockwasm_plugin {
    ($handler:path) => {
        #[no_mangle]
        pub extern "C" fn sockwasm_abi_v1() {}

        #[no_mangle]
        pub extern "C" fn sockwasm_handle(kind: i32, len: i32) -> i32 {
            match crate::sockwasm::Call::read(kind, len) {
                Some(c) => $handler(&c),
                None => 0,
            }
        }
    };
}

fn result(r: i32) -> Result<i32, Error> {
    if r < 0 {
        Err(Error(r))
    } else {
        Ok(r)
    }
}

/// One call's input frame (ABI.md section 3).
pub struct Call {
    kind: Kind,
    buf: Vec<u8>,
    fields: [(usize, usize); 7], // namespace, socket id, event, args, auth, context, reason
    room_count: u32,
    rooms_at: usize,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl Call {
    /// Reads the current call's frame (len bytes); None when malformed.
    pub fn read(kind: i32, len: i32) -> Option<Call> {
        if len < 24 {
            return None;
        }
        let mut buf = vec![0u8; len as usize];
        if unsafe { host::read_input(buf.as_mut_ptr(), len as u32) } != len {
            return None;
        }
        Call::parse(Kind::from(kind), buf)
    }

    /// Parses a frame's bytes.
    pub fn parse(kind: Kind, buf: Vec<u8>) -> Option<Call> {
        if buf.len() < 24 {
            return None;
        }
        let mut fields = [(0usize, 0usize); 7];
        let mut at = 24;
        for f in fields.iter_mut() {
            if buf.len() - at < 4 {
                return None;
            }
            let n = u32_at(&buf, at) as usize;
            at += 4;
            if n > buf.len() - at {
                return None;
            }
            *f = (at, n);
            at += n;
        }
        if buf.len() - at < 4 {
            return None;
        }
        let room_count = u32_at(&buf, at);
        Some(Call { kind, fields, room_count, rooms_at: at + 4, buf })
    }

    fn field(&self, i: usize) -> &[u8] {
        let (at, n) = self.fields[i];
        &self.buf[at..at + n]
    }

    fn text(&self, i: usize) -> &str {
        std::str::from_utf8(self.field(i)).unwrap_or("")
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }
    pub fn flags(&self) -> u16 {
        u16::from_le_bytes([self.buf[2], self.buf[3]])
    }
    pub fn has_ack(&self) -> bool {
        self.flags() & FLAG_HAS_ACK != 0
    }
    /// The number of binary attachments (read_attachment).
    pub fn attachments(&self) -> u32 {
        u32_at(&self.buf, 4)
    }
    /// The client's ack id (EVENT with FLAG_HAS_ACK), the timer id (TIMER).
    pub fn ack_id(&self) -> u64 {
        u32_at(&self.buf, 8) as u64 | (u32_at(&self.buf, 12) as u64) << 32
    }
    /// ACK_OK, ACK_TIMEOUT or ACK_DISCONNECTED (ACK_RESPONSE, SERVER_ACK).
    pub fn status(&self) -> u32 {
        u32_at(&self.buf, 16)
    }
    pub fn namespace(&self) -> &str {
        self.text(0)
    }
    pub fn socket_id(&self) -> &str {
        self.text(1)
    }
    pub fn event(&self) -> &str {
        self.text(2)
    }
    /// The arguments: a JSON array (placeholders for attachments), or the
    /// message bytes (ENGINE_MESSAGE), or the config (INIT).
    pub fn args(&self) -> &[u8] {
        self.field(3)
    }
    pub fn auth(&self) -> &[u8] {
        self.field(4)
    }
    pub fn context(&self) -> &[u8] {
        self.field(5)
    }
    pub fn reason(&self) -> &str {
        self.text(6)
    }
    /// The rooms of a DISCONNECT frame.
    pub fn rooms(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let mut at = self.rooms_at;
        for _ in 0..self.room_count {
            if self.buf.len() - at < 4 {
                break;
            }
            let n = u32_at(&self.buf, at) as usize;
            at += 4;
            if n > self.buf.len() - at {
                break;
            }
            out.push(std::str::from_utf8(&self.buf[at..at + n]).unwrap_or(""));
            at += n;
        }
        out
    }
    /// Copies input attachment i.
    pub fn attachment(&self, i: u32) -> Result<Vec<u8>, Error> {
        let n = result(unsafe { host::read_attachment(i, std::ptr::null_mut(), 0) })? as usize;
        let mut b = vec![0u8; n];
        result(unsafe { host::read_attachment(i, b.as_mut_ptr(), n as u32) })?;
        Ok(b)
    }
}

/// An attachment list (ABI.md section 4): bytes, or references to the
/// current call's input attachments (forwarded without a copy).
#[derive(Default)]
pub struct Attachments(Vec<u8>);

impl Attachments {
    pub fn new() -> Attachments {
        Attachments(Vec::new())
    }
    fn count(&mut self) {
        if self.0.is_empty() {
            self.0.extend_from_slice(&0u32.to_le_bytes());
        }
        let n = u32_at(&self.0, 0) + 1;
        self.0[..4].copy_from_slice(&n.to_le_bytes());
    }
    /// Adds bytes; a placeholder num is its position in the list.
    pub fn bytes(mut self, b: &[u8]) -> Attachments {
        self.count();
        self.0.extend_from_slice(&(b.len() as u32).to_le_bytes());
        self.0.extend_from_slice(b);
        self
    }
    /// Adds a reference to input attachment i.
    pub fn input(mut self, i: u32) -> Attachments {
        self.count();
        self.0.extend_from_slice(&(0x8000_0000u32 | i).to_le_bytes());
        self
    }
    /// Forwards every input attachment of c, in order.
    pub fn forward(c: &Call) -> Attachments {
        let mut a = Attachments::new();
        for i in 0..c.attachments() {
            a = a.input(i);
        }
        a
    }
}

/// Encodes a list of names (rooms, except) for the host.
pub fn list(items: &[&str]) -> Vec<u8> {
    if items.is_empty() {
        return Vec::new();
    }
    let mut b = (items.len() as u32).to_le_bytes().to_vec();
    for s in items {
        b.extend_from_slice(&(s.len() as u32).to_le_bytes());
        b.extend_from_slice(s.as_bytes());
    }
    b
}

fn ptr(b: &[u8]) -> *const u8 {
    if b.is_empty() {
        std::ptr::null()
    } else {
        b.as_ptr()
    }
}

/// Answers the client's ack id with args (a JSON array).
pub fn ack(id: u64, args: &[u8]) -> Result<(), Error> {
    ack_with(id, args, &Attachments::new())
}

/// Answers an ack with binary attachments.
pub fn ack_with(id: u64, args: &[u8], atts: &Attachments) -> Result<(), Error> {
    result(unsafe { host::ack(id, ptr(args), args.len() as u32, ptr(&atts.0), atts.0.len() as u32) }).map(|_| ())
}

/// Sends event name with args (a JSON array) to the calling socket.
pub fn emit(name: &str, args: &[u8]) -> Result<(), Error> {
    emit_with(name, args, &Attachments::new())
}

/// emit with binary attachments.
pub fn emit_with(name: &str, args: &[u8], atts: &Attachments) -> Result<(), Error> {
    let r = unsafe {
        host::emit(name.as_ptr(), name.len() as u32, ptr(args), args.len() as u32, ptr(&atts.0), atts.0.len() as u32)
    };
    result(r).map(|_| ())
}

/// Sends event name to the sockets of the calling socket's namespace in
/// any of rooms (all when empty) and none of except; flags BROADCAST_*.
pub fn broadcast(rooms: &[&str], except: &[&str], flags: u32, name: &str, args: &[u8]) -> Result<(), Error> {
    let (r, e) = (list(rooms), list(except));
    let res = unsafe {
        host::broadcast(ptr(&r), r.len() as u32, ptr(&e), e.len() as u32, flags, name.as_ptr(), name.len() as u32,
                        ptr(args), args.len() as u32, std::ptr::null(), 0)
    };
    result(res).map(|_| ())
}

/// Sends event name to namespace nsp (ABI.md section 4.4).
pub fn ns_broadcast(nsp: &str, rooms: &[&str], except: &[&str], flags: u32, name: &str, args: &[u8]) -> Result<(), Error> {
    let (r, e) = (list(rooms), list(except));
    let res = unsafe {
        host::ns_broadcast(nsp.as_ptr(), nsp.len() as u32, ptr(&r), r.len() as u32, ptr(&e), e.len() as u32, flags,
                           name.as_ptr(), name.len() as u32, ptr(args), args.len() as u32, std::ptr::null(), 0)
    };
    result(res).map(|_| ())
}

/// Adds the calling socket to room.
pub fn join(room: &str) -> Result<(), Error> {
    result(unsafe { host::join(room.as_ptr(), room.len() as u32) }).map(|_| ())
}

/// Removes the calling socket from room.
pub fn leave(room: &str) -> Result<(), Error> {
    result(unsafe { host::leave(room.as_ptr(), room.len() as u32) }).map(|_| ())
}

/// The number of sockets in room (on every node of a cluster).
pub fn room_size(room: &str) -> Result<i32, Error> {
    result(unsafe { host::room_size(room.as_ptr(), room.len() as u32) })
}

/// Disconnects the calling socket after the call returns.
pub fn disconnect(close_session: bool) -> Result<(), Error> {
    result(unsafe { host::disconnect(close_session as i32) }).map(|_| ())
}

/// MIDDLEWARE: refuses the connection with message (and JSON data, or
/// empty for none).
pub fn reject(message: &str, data: &[u8]) -> Result<(), Error> {
    result(unsafe { host::reject(message.as_ptr(), message.len() as u32, ptr(data), data.len() as u32) }).map(|_| ())
}

/// Writes msg to the host's log at level LOG_*.
pub fn log(level: i32, msg: &str) {
    unsafe { host::log(level, msg.as_ptr(), msg.len() as u32) }
}

/// Calls a (buf, limit) getter until its data fits.
fn get(f: unsafe extern "C" fn(*mut u8, u32) -> i32) -> Result<Vec<u8>, Error> {
    let mut b = vec![0u8; 256];
    loop {
        let n = result(unsafe { f(b.as_mut_ptr(), b.len() as u32) })? as usize;
        if n <= b.len() {
            b.truncate(n);
            return Ok(b);
        }
        b = vec![0u8; n];
    }
}

/// The calling socket's rooms, its own id room included.
pub fn rooms() -> Result<Vec<String>, Error> {
    let b = get(host::rooms)?;
    let mut out = Vec::new();
    if b.len() < 4 {
        return Ok(out);
    }
    let mut at = 4;
    for _ in 0..u32_at(&b, 0) {
        let n = u32_at(&b, at) as usize;
        at += 4;
        out.push(String::from_utf8_lossy(&b[at..at + n]).into_owned());
        at += n;
    }
    Ok(out)
}

/// This plugin's data on the calling socket (empty when never set).
pub fn socket_data() -> Result<Vec<u8>, Error> {
    get(host::socket_data)
}

/// Replaces this plugin's data on the calling socket (JSON; empty clears).
pub fn set_socket_data(data: &[u8]) -> Result<(), Error> {
    result(unsafe { host::set_socket_data(ptr(data), data.len() as u32) }).map(|_| ())
}

/// The plugin's config table as a JSON object.
pub fn config() -> Result<Vec<u8>, Error> {
    get(host::config)
}

/// The socket's handshake as a JSON object.
pub fn handshake() -> Result<Vec<u8>, Error> {
    get(host::handshake)
}

/// Starts an outbound HTTP request (grant "http", the URL in the plugin's
/// http_allow; ABI.md section 4.6): method, url, headers as (name, value)
/// pairs, a body (empty for none) and a context blob. Returns the request
/// id at once; the response arrives in a Kind::HttpResponse call whose
/// ack_id() is that id, status() the HTTP status (0 on failure), event()
/// the failure, args() the body, auth() the headers (a JSON object) and
/// context() the blob.
pub fn http_request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8], ctx: &[u8]) -> Result<u32, Error> {
    let mut req = b"{\"method\":".to_vec();
    json::push_string(&mut req, method);
    req.extend_from_slice(b",\"url\":");
    json::push_string(&mut req, url);
    req.extend_from_slice(b",\"headers\":{");
    for (i, (k, v)) in headers.iter().enumerate() {
        if i > 0 {
            req.push(b',');
        }
        json::push_string(&mut req, k);
        req.push(b':');
        json::push_string(&mut req, v);
    }
    req.extend_from_slice(b"}}");
    let r = unsafe {
        host::http_request(req.as_ptr(), req.len() as u32, ptr(body), body.len() as u32, ptr(ctx), ctx.len() as u32)
    };
    result(r).map(|id| id as u32)
}

/// JSON helpers: enough to read a handler's arguments and write answers.
pub mod json {
    /// Appends s to out as a JSON string.
    pub fn push_string(out: &mut Vec<u8>, s: &str) {
        out.push(b'"');
        for c in s.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                c if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
                c => {
                    let mut b = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
            }
        }
        out.push(b'"');
    }

    /// A JSON string.
    pub fn string(s: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(s.len() + 2);
        push_string(&mut out, s);
        out
    }

    /// A JSON array of the given JSON values.
    pub fn array(items: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![b'['];
        for (i, v) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(v);
        }
        out.push(b']');
        out
    }

    fn ws(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    }

    /// The end of the JSON value at b[i..] (the host has validated the
    /// JSON: only the value's extent is found here).
    fn skip(b: &[u8], i: usize) -> usize {
        let mut depth = 0i32;
        let mut j = i;
        let mut in_str = false;
        while j < b.len() {
            let c = b[j];
            if in_str {
                if c == b'\\' {
                    j += 1;
                } else if c == b'"' {
                    in_str = false;
                    if depth == 0 {
                        return j + 1;
                    }
                }
            } else {
                match c {
                    b'"' => in_str = true,
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        if depth == 0 {
                            return j;
                        }
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    b',' if depth == 0 => return j,
                    _ => {}
                }
            }
            j += 1;
        }
        j
    }

    /// The elements of a JSON array, as their JSON bytes.
    pub fn items(b: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut i = ws(b, 0);
        if i >= b.len() || b[i] != b'[' {
            return out;
        }
        i = ws(b, i + 1);
        while i < b.len() && b[i] != b']' {
            let end = skip(b, i);
            let mut e = end;
            while e > i && matches!(b[e - 1], b' ' | b'\t' | b'\n' | b'\r') {
                e -= 1;
            }
            out.push(&b[i..e]);
            i = ws(b, end);
            if i < b.len() && b[i] == b',' {
                i = ws(b, i + 1);
            }
        }
        out
    }

    /// The value of key in a JSON object, as its JSON bytes.
    pub fn get<'a>(obj: &'a [u8], key: &str) -> Option<&'a [u8]> {
        let mut i = ws(obj, 0);
        if i >= obj.len() || obj[i] != b'{' {
            return None;
        }
        i = ws(obj, i + 1);
        while i < obj.len() && obj[i] == b'"' {
            let kend = skip(obj, i);
            let k = as_string(&obj[i..kend]);
            i = ws(obj, kend);
            if i >= obj.len() || obj[i] != b':' {
                return None;
            }
            i = ws(obj, i + 1);
            let end = skip(obj, i);
            let mut e = end;
            while e > i && matches!(obj[e - 1], b' ' | b'\t' | b'\n' | b'\r') {
                e -= 1;
            }
            if k.as_deref() == Some(key) {
                return Some(&obj[i..e]);
            }
            i = ws(obj, end);
            if i < obj.len() && obj[i] == b',' {
                i = ws(obj, i + 1);
            }
        }
        None
    }

    /// Decodes a JSON string value; None for anything else.
    pub fn as_string(v: &[u8]) -> Option<String> {
        if v.len() < 2 || v[0] != b'"' || v[v.len() - 1] != b'"' {
            return None;
        }
        let body = &v[1..v.len() - 1];
        let mut out: Vec<u16> = Vec::new();
        let mut i = 0;
        let mut plain = Vec::new();
        let flush = |plain: &mut Vec<u8>, out: &mut Vec<u16>| {
            out.extend(String::from_utf8_lossy(plain).encode_utf16());
            plain.clear();
        };
        while i < body.len() {
            if body[i] != b'\\' {
                plain.push(body[i]);
                i += 1;
                continue;
            }
            flush(&mut plain, &mut out);
            i += 1;
            if i >= body.len() {
                return None;
            }
            match body[i] {
                b'"' => out.push('"' as u16),
                b'\\' => out.push('\\' as u16),
                b'/' => out.push('/' as u16),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'n' => out.push('\n' as u16),
                b'r' => out.push('\r' as u16),
                b't' => out.push('\t' as u16),
                b'u' if i + 4 < body.len() => {
                    let hex = std::str::from_utf8(&body[i + 1..i + 5]).ok()?;
                    out.push(u16::from_str_radix(hex, 16).ok()?);
                    i += 4;
                }
                _ => return None,
            }
            i += 1;
        }
        flush(&mut plain, &mut out);
        Some(String::from_utf16_lossy(&out))
    }
}
