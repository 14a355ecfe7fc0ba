/*
 * sockwasm.h: the sockwasm plugin ABI, version 1, for C guests.
 *
 * One header, no library: the host functions of module sockwasm_v1, the
 * constants of sdk/ABI.md, and inline helpers to read the input frame and
 * write room lists. It needs no libc (only <stdint.h>, which clang
 * provides freestanding):
 *
 *   clang --target=wasm32 -nostdlib -Wl,--no-entry -O2 -o build/x.wasm x.c
 *
 * or, with wasi-libc, --target=wasm32-wasi -mexec-model=reactor.
 *
 * A plugin defines the version marker and the handler:
 *
 *   #include "sockwasm.h"
 *   SOCKWASM_ABI_V1
 *   SOCKWASM_HANDLE(kind, len) {
 *       static uint8_t in[65536];
 *       sw_frame f;
 *       if (len > (int32_t)sizeof in || sw_read_frame(in, len, &f) != 0) return 0;
 *       if (kind == SW_KIND_EVENT && (f.flags & SW_FLAG_HAS_ACK))
 *           sw_ack(f.ack_id, f.args.ptr, f.args.len, 0, 0);   // echo the args
 *       return 0;
 *   }
 *
 * Every host function returns a non-negative count or length on success,
 * or one of the SW_ERR_* codes. Functions that return data take (buf,
 * limit) and return the data's length: a result greater than limit means
 * nothing was copied. sdk/ABI.md is the normative description; the
 * declarations below are checked against the host's by its tests.
 */
#ifndef SOCKWASM_H
#define SOCKWASM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Call kinds: sockwasm_handle's first parameter (ABI.md section 2). */
enum {
    SW_KIND_MIDDLEWARE = 1,
    SW_KIND_CONNECT = 2,
    SW_KIND_EVENT = 3,
    SW_KIND_ACK_RESPONSE = 4,
    SW_KIND_DISCONNECT = 5,
    SW_KIND_ENGINE_OPEN = 6,
    SW_KIND_ENGINE_MESSAGE = 7,
    SW_KIND_ENGINE_CLOSE = 8,
    SW_KIND_EVENT_MIDDLEWARE = 9,
    SW_KIND_INIT = 10,
    SW_KIND_TIMER = 11,
    SW_KIND_SERVER_EVENT = 12,
    SW_KIND_SERVER_ACK = 13,
    SW_KIND_HTTP_RESPONSE = 14
};

/* Result codes of host functions (section 4). */
enum {
    SW_OK = 0,
    SW_ERR_MEMORY = -1,
    SW_ERR_INVALID = -2,
    SW_ERR_NOT_FOUND = -3,
    SW_ERR_NOT_ALLOWED = -4,
    SW_ERR_DISCONNECTED = -5,
    SW_ERR_LIMIT = -6,
    SW_ERR_UNKNOWN_ACK = -7,
    SW_ERR_FAILED = -8,
    SW_ERR_TIMEOUT = -9,
    SW_ERR_UNAVAILABLE = -10
};

/* Input frame flags (u16 at offset 2). */
enum {
    SW_FLAG_HAS_ACK = 1,
    SW_FLAG_BINARY = 2,
    SW_FLAG_BROADCAST_ACK = 4
};

/* Ack status (u32 at offset 16) of ACK_RESPONSE and SERVER_ACK. */
enum {
    SW_ACK_OK = 0,
    SW_ACK_TIMEOUT = 1,
    SW_ACK_DISCONNECTED = 2
};

/* Flags of broadcast, broadcast_with_ack and ns_broadcast. */
enum {
    SW_BROADCAST_EXCEPT_SENDER = 1,
    SW_BROADCAST_VOLATILE = 2,
    SW_BROADCAST_COMPRESS = 4
};

/* Flags of kv_cas. */
enum {
    SW_KV_OLD_ABSENT = 1,
    SW_KV_NEW_ABSENT = 2
};

/* Levels of sw_log. */
enum {
    SW_LOG_DEBUG = 0,
    SW_LOG_INFO = 1,
    SW_LOG_WARN = 2,
    SW_LOG_ERROR = 3
};

/* An attachment list word that forwards input attachment i (section 5). */
#define SW_ATTACHMENT_REF(i) (0x80000000u | (uint32_t)(i))

/* The exports every plugin defines. */
#define SOCKWASM_ABI_V1 \
    __attribute__((export_name("sockwasm_abi_v1"))) void sockwasm_abi_v1(void) {}
#define SOCKWASM_HANDLE(kind, len) \
    __attribute__((export_name("sockwasm_handle"))) int32_t sockwasm_handle(int32_t kind, int32_t len)

#define SW_IMPORT(name) __attribute__((import_module("sockwasm_v1"), import_name(name)))

/* Section 4: every call. */
SW_IMPORT("read_input") int32_t sw_read_input(void *buf, uint32_t limit);
SW_IMPORT("read_attachment") int32_t sw_read_attachment(uint32_t index, void *buf, uint32_t limit);
SW_IMPORT("log") void sw_log(int32_t level, const void *msg, uint32_t msg_len);
SW_IMPORT("config") int32_t sw_config(void *buf, uint32_t limit);

/* Section 4: the calling socket. */
SW_IMPORT("ack") int32_t sw_ack(uint64_t ack_id, const void *args, uint32_t args_len, const void *atts, uint32_t atts_len);
SW_IMPORT("emit") int32_t sw_emit(const void *name, uint32_t name_len, const void *args, uint32_t args_len,
                                  const void *atts, uint32_t atts_len);
SW_IMPORT("emit_with_ack") int32_t sw_emit_with_ack(const void *name, uint32_t name_len, const void *args, uint32_t args_len,
                                                    const void *atts, uint32_t atts_len, uint32_t timeout_ms,
                                                    const void *ctx, uint32_t ctx_len);
SW_IMPORT("join") int32_t sw_join(const void *room, uint32_t room_len);
SW_IMPORT("leave") int32_t sw_leave(const void *room, uint32_t room_len);
SW_IMPORT("disconnect") int32_t sw_disconnect(int32_t close_session);
SW_IMPORT("socket_id") int32_t sw_socket_id(void *buf, uint32_t limit);
SW_IMPORT("namespace") int32_t sw_namespace(void *buf, uint32_t limit);
SW_IMPORT("auth") int32_t sw_auth(void *buf, uint32_t limit);
SW_IMPORT("transport") int32_t sw_transport(void *buf, uint32_t limit);
SW_IMPORT("rooms") int32_t sw_rooms(void *buf, uint32_t limit);
SW_IMPORT("handshake") int32_t sw_handshake(void *buf, uint32_t limit);
SW_IMPORT("socket_data") int32_t sw_socket_data(void *buf, uint32_t limit);
SW_IMPORT("set_socket_data") int32_t sw_set_socket_data(const void *data, uint32_t data_len);
SW_IMPORT("reject") int32_t sw_reject(const void *msg, uint32_t msg_len, const void *data, uint32_t data_len);
SW_IMPORT("reject_event") int32_t sw_reject_event(const void *msg, uint32_t msg_len, const void *data, uint32_t data_len);

/* Section 4: the calling socket's namespace. rooms and except are lists. */
SW_IMPORT("broadcast") int32_t sw_broadcast(const void *rooms, uint32_t rooms_len, const void *except, uint32_t except_len,
                                            uint32_t flags, const void *name, uint32_t name_len, const void *args,
                                            uint32_t args_len, const void *atts, uint32_t atts_len);
SW_IMPORT("broadcast_with_ack") int32_t sw_broadcast_with_ack(const void *rooms, uint32_t rooms_len, const void *except,
                                                              uint32_t except_len, uint32_t flags, const void *name,
                                                              uint32_t name_len, const void *args, uint32_t args_len,
                                                              const void *atts, uint32_t atts_len, uint32_t timeout_ms,
                                                              const void *ctx, uint32_t ctx_len);
SW_IMPORT("room_size") int32_t sw_room_size(const void *room, uint32_t room_len);
SW_IMPORT("client_count") int32_t sw_client_count(void);
SW_IMPORT("fetch_sockets") int32_t sw_fetch_sockets(const void *rooms, uint32_t rooms_len, const void *except,
                                                    uint32_t except_len, void *buf, uint32_t limit);
SW_IMPORT("sockets_join") int32_t sw_sockets_join(const void *rooms, uint32_t rooms_len, const void *except,
                                                  uint32_t except_len, const void *join, uint32_t join_len);
SW_IMPORT("sockets_leave") int32_t sw_sockets_leave(const void *rooms, uint32_t rooms_len, const void *except,
                                                    uint32_t except_len, const void *leave, uint32_t leave_len);
SW_IMPORT("disconnect_sockets") int32_t sw_disconnect_sockets(const void *rooms, uint32_t rooms_len, const void *except,
                                                              uint32_t except_len, int32_t close_session);

/* Section 4: bare Engine.IO endpoints. */
SW_IMPORT("engine_send") int32_t sw_engine_send(const void *data, uint32_t data_len, int32_t binary);

/* Section 4.3: the key-value store (grant "kv") and timers (grant "timers"). */
SW_IMPORT("kv_get") int32_t sw_kv_get(const void *key, uint32_t key_len, void *buf, uint32_t limit);
SW_IMPORT("kv_set") int32_t sw_kv_set(const void *key, uint32_t key_len, const void *val, uint32_t val_len, int64_t ttl_ms);
SW_IMPORT("kv_delete") int32_t sw_kv_delete(const void *key, uint32_t key_len);
SW_IMPORT("kv_incr") int32_t sw_kv_incr(const void *key, uint32_t key_len, int64_t delta, int64_t *out);
SW_IMPORT("kv_cas") int32_t sw_kv_cas(const void *key, uint32_t key_len, const void *old_val, uint32_t old_len,
                                      const void *new_val, uint32_t new_len, uint32_t flags, int64_t ttl_ms);
SW_IMPORT("timer_set") int32_t sw_timer_set(uint32_t delay_ms, int32_t repeat, const void *ctx, uint32_t ctx_len);
SW_IMPORT("timer_cancel") int32_t sw_timer_cancel(int32_t id);

/* Sections 4.4 and 4.5: any namespace, other nodes. */
SW_IMPORT("ns_broadcast") int32_t sw_ns_broadcast(const void *nsp, uint32_t nsp_len, const void *rooms, uint32_t rooms_len,
                                                  const void *except, uint32_t except_len, uint32_t flags,
                                                  const void *name, uint32_t name_len, const void *args,
                                                  uint32_t args_len, const void *atts, uint32_t atts_len);
SW_IMPORT("server_emit") int32_t sw_server_emit(const void *nsp, uint32_t nsp_len, const void *name, uint32_t name_len,
                                                const void *args, uint32_t args_len, uint32_t timeout_ms,
                                                const void *ctx, uint32_t ctx_len);
SW_IMPORT("server_ack") int32_t sw_server_ack(uint64_t id, const void *args, uint32_t args_len);

/* Section 4.6: outbound HTTP (grant "http", [plugin.NAME] http_allow). req is
 * the JSON object {"method":…,"url":…,"headers":{…}}; the response comes in
 * an SW_KIND_HTTP_RESPONSE call: ack_id the request id, status the HTTP
 * status (0: failure), event the failure, args the body, auth the headers. */
SW_IMPORT("http_request") int32_t sw_http_request(const void *req, uint32_t req_len, const void *body, uint32_t body_len,
                                                  const void *ctx, uint32_t ctx_len);

#undef SW_IMPORT

/* ---- Helpers: inline, no state. ---- */

/* sw_bytes is a view into a buffer the guest owns. */
typedef struct {
    const uint8_t *ptr;
    uint32_t len;
} sw_bytes;

/* sw_frame is a parsed input frame (section 3): views into its buffer. */
typedef struct {
    uint8_t version, kind;
    uint16_t flags;
    uint32_t attachments;
    uint64_t ack_id;  /* the client's ack id, the timer id (TIMER), 1 (SERVER_EVENT with an ack),
                         the request id (HTTP_RESPONSE) */
    uint32_t status;  /* SW_ACK_* (ACK_RESPONSE, SERVER_ACK); the HTTP status (HTTP_RESPONSE) */
    sw_bytes nsp, socket_id, event, args, auth, context, reason;
    uint32_t room_count;
    sw_bytes rooms;   /* the room fields, read with sw_frame_room */
} sw_frame;

static inline uint32_t sw_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void sw_put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* sw_field reads one length-prefixed field at *off; -1 when it overruns. */
static inline int sw_field(const uint8_t *buf, uint32_t len, uint32_t *off, sw_bytes *out) {
    if (len - *off < 4 || *off > len) return -1;
    uint32_t n = sw_u32(buf + *off);
    *off += 4;
    if (n > len - *off) return -1;
    out->ptr = buf + *off;
    out->len = n;
    *off += n;
    return 0;
}

/* sw_parse_frame parses the len bytes of an input frame; 0 when well formed. */
static inline int sw_parse_frame(const uint8_t *buf, uint32_t len, sw_frame *f) {
    if (len < 24) return -1;
    f->version = buf[0];
    f->kind = buf[1];
    f->flags = (uint16_t)(buf[2] | buf[3] << 8);
    f->attachments = sw_u32(buf + 4);
    f->ack_id = (uint64_t)sw_u32(buf + 8) | (uint64_t)sw_u32(buf + 12) << 32;
    f->status = sw_u32(buf + 16);
    uint32_t off = 24;
    sw_bytes *fields[] = {&f->nsp, &f->socket_id, &f->event, &f->args, &f->auth, &f->context, &f->reason};
    for (unsigned i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (sw_field(buf, len, &off, fields[i]) != 0) return -1;
    if (len - off < 4) return -1;
    f->room_count = sw_u32(buf + off);
    off += 4;
    f->rooms.ptr = buf + off;
    f->rooms.len = len - off;
    return 0;
}

/* sw_read_frame copies the current call's frame (len bytes, from the
 * handler's second parameter) into buf and parses it; -1 when it does not
 * fit or is malformed. */
static inline int sw_read_frame(uint8_t *buf, int32_t len, sw_frame *f) {
    if (len < 0 || sw_read_input(buf, (uint32_t)len) != len) return -1;
    return sw_parse_frame(buf, (uint32_t)len, f);
}

/* sw_frame_room returns room i of a DISCONNECT frame; -1 past the last. */
static inline int sw_frame_room(const sw_frame *f, uint32_t i, sw_bytes *out) {
    uint32_t off = 0;
    for (uint32_t k = 0; k <= i; k++) {
        if (k >= f->room_count || sw_field(f->rooms.ptr, f->rooms.len, &off, out) != 0) return -1;
    }
    return 0;
}

/* A list (rooms, except): u32 count, then u32 length + bytes per item.
 * sw_list_begin starts one in buf; sw_list_add appends an item and returns
 * the list's length so far, 0 when it does not fit in cap. */
static inline uint32_t sw_list_begin(uint8_t *buf, uint32_t cap) {
    if (cap < 4) return 0;
    sw_put_u32(buf, 0);
    return 4;
}

static inline uint32_t sw_list_add(uint8_t *buf, uint32_t used, uint32_t cap, const void *item, uint32_t n) {
    if (used < 4 || cap - used < 4 || n > cap - used - 4) return 0;
    sw_put_u32(buf, sw_u32(buf) + 1);
    sw_put_u32(buf + used, n);
    const uint8_t *s = (const uint8_t *)item;
    for (uint32_t i = 0; i < n; i++) buf[used + 4 + i] = s[i];
    return used + 4 + n;
}

/* sw_strlen counts a NUL-terminated string's bytes (no libc needed). */
static inline uint32_t sw_strlen(const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

/* sw_log_str logs a NUL-terminated message. */
static inline void sw_log_str(int32_t level, const char *msg) { sw_log(level, msg, sw_strlen(msg)); }

#ifdef __cplusplus
}
#endif

#endif /* SOCKWASM_H */
