/*
 * chat.c: the chat plugin's benchmark events in C (sdk/c/sockwasm.h, no
 * libc), so that `sockwasm-bench run` can compare a guest without a runtime
 * with the Go SDK's (plugins/chat.wasm) and the AssemblyScript SDK's
 * (plugins/chat-as.wasm). Same names and payloads as examples/chat/plugin:
 *
 *   middleware     auth {"token":"bad"} is refused: {"message":"unauthorized","data":{"code":401}}
 *   echo ...args   acks the same args, attachments forwarded by reference
 *   join / leave {room}  ack {ok, room, size}
 *   say {room, text}     "said" {room, from, text} to the room but the sender, ack {ok:true}
 *   disconnect     "left" {room, id, reason} to each room the socket was in
 *
 * Unlike the Go chat, a room name with a JSON escape is refused as a bad
 * request (the room is joined as the raw bytes between the quotes), an
 * event whose frame exceeds 64 KiB (args, not attachments) is ignored, and
 * the informational events (rooms, whoami, stats, ping-me, bye) are absent.
 *
 * Build (the runner does it when clang is present):
 *   clang --target=wasm32 -nostdlib -Wl,--no-entry -O2 -I sdk/c -o chat-c.wasm test/bench/chat.c
 */
#include "sockwasm.h"

SOCKWASM_ABI_V1

#define MAX_ROOM_LEN 128

static uint8_t in[65536];
static uint8_t out[65536 + 512];

/* clang turns copy loops into calls to memcpy; without libc, this is it. */
void *memcpy(void *dst, const void *src, unsigned long n) {
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    while (n--) *d++ = *s++;
    return dst;
}
static const char bad_request[] = "[{\"ok\":false,\"error\":\"bad request\"}]";

static int eq(sw_bytes b, const char *s) {
    uint32_t n = sw_strlen(s);
    if (b.len != n) return 0;
    for (uint32_t i = 0; i < n; i++)
        if (b.ptr[i] != (uint8_t)s[i]) return 0;
    return 1;
}

static uint32_t put(uint8_t *dst, uint32_t n, const void *src, uint32_t len) {
    const uint8_t *s = (const uint8_t *)src;
    for (uint32_t i = 0; i < len && n < sizeof out; i++) dst[n++] = s[i];
    return n;
}

static uint32_t puts_(uint8_t *dst, uint32_t n, const char *s) { return put(dst, n, s, sw_strlen(s)); }

static uint32_t put_int(uint8_t *dst, uint32_t n, int32_t v) {
    char digits[11];
    int d = 0;
    if (v < 0) return puts_(dst, n, "null"); /* the host could not count */
    do digits[d++] = (char)('0' + v % 10); while ((v /= 10) > 0);
    while (d > 0 && n < sizeof out) dst[n++] = (uint8_t)digits[--d];
    return n;
}

static uint32_t skip_ws(sw_bytes b, uint32_t i) {
    while (i < b.len && (b.ptr[i] == ' ' || b.ptr[i] == '\t' || b.ptr[i] == '\n' || b.ptr[i] == '\r')) i++;
    return i;
}

/* skip_string returns the index after the JSON string starting at b[i] ('"'), or 0. */
static uint32_t skip_string(sw_bytes b, uint32_t i) {
    for (i++; i < b.len; i++) {
        if (b.ptr[i] == '\\') i++;
        else if (b.ptr[i] == '"') return i + 1;
    }
    return 0;
}

/* skip_value returns the index after the JSON value starting at b[i], or 0. */
static uint32_t skip_value(sw_bytes b, uint32_t i) {
    if (i >= b.len) return 0;
    if (b.ptr[i] == '"') return skip_string(b, i);
    if (b.ptr[i] == '{' || b.ptr[i] == '[') {
        int depth = 0;
        while (i < b.len) {
            uint8_t c = b.ptr[i];
            if (c == '"') {
                if ((i = skip_string(b, i)) == 0) return 0;
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
            i++;
        }
        return 0;
    }
    while (i < b.len && b.ptr[i] != ',' && b.ptr[i] != '}' && b.ptr[i] != ']' && b.ptr[i] != ' ') i++;
    return i;
}

/* field finds the string member key of the JSON object at obj[i] and sets
 * *s to the bytes between its quotes (escapes left as they are); 0 when found. */
static int field(sw_bytes obj, uint32_t i, const char *key, sw_bytes *s) {
    i = skip_ws(obj, i);
    if (i >= obj.len || obj.ptr[i] != '{') return -1;
    i++;
    for (;;) {
        i = skip_ws(obj, i);
        if (i >= obj.len || obj.ptr[i] != '"') return -1;
        uint32_t ks = i + 1, ke = skip_string(obj, i);
        if (ke == 0) return -1;
        sw_bytes k = {obj.ptr + ks, ke - 1 - ks};
        i = skip_ws(obj, ke);
        if (i >= obj.len || obj.ptr[i] != ':') return -1;
        i = skip_ws(obj, i + 1);
        if (eq(k, key)) {
            if (i >= obj.len || obj.ptr[i] != '"') return -1;
            uint32_t end = skip_string(obj, i);
            if (end == 0) return -1;
            s->ptr = obj.ptr + i + 1;
            s->len = end - 1 - (i + 1);
            return 0;
        }
        if ((i = skip_value(obj, i)) == 0) return -1;
        i = skip_ws(obj, i);
        if (i >= obj.len || obj.ptr[i] != ',') return -1;
        i++;
    }
}

/* arg0 returns the index of the first argument of the args array [a, ...]. */
static uint32_t arg0(sw_bytes args) {
    uint32_t i = skip_ws(args, 0);
    return i < args.len && args.ptr[i] == '[' ? i + 1 : args.len;
}

/* room reads the valid room of the first argument {room: string}. */
static int room(sw_bytes args, sw_bytes *r) {
    if (field(args, arg0(args), "room", r) != 0 || r->len == 0) return -1;
    uint32_t runes = 0;
    for (uint32_t i = 0; i < r->len; i++) {
        if (r->ptr[i] == '\\') return -1;
        if ((r->ptr[i] & 0xC0) != 0x80) runes++;
    }
    return runes <= MAX_ROOM_LEN ? 0 : -1;
}

static void ack(const sw_frame *f, const void *json, uint32_t n) {
    if (f->flags & SW_FLAG_HAS_ACK) sw_ack(f->ack_id, json, n, 0, 0);
}

static void membership(const sw_frame *f, int join) {
    sw_bytes r;
    if (room(f->args, &r) != 0) {
        ack(f, bad_request, sizeof bad_request - 1);
        return;
    }
    if (join) sw_join(r.ptr, r.len);
    else sw_leave(r.ptr, r.len);
    uint32_t n = puts_(out, 0, "[{\"ok\":true,\"room\":\"");
    n = put(out, n, r.ptr, r.len);
    n = puts_(out, n, "\",\"size\":");
    n = put_int(out, n, sw_room_size(r.ptr, r.len));
    n = puts_(out, n, "}]");
    ack(f, out, n);
}

static void say(const sw_frame *f) {
    sw_bytes r, text;
    if (room(f->args, &r) != 0 || field(f->args, arg0(f->args), "text", &text) != 0 ||
        r.len + text.len + f->socket_id.len + 64 > sizeof out) {
        ack(f, bad_request, sizeof bad_request - 1);
        return;
    }
    uint8_t rooms[4 + 4 + MAX_ROOM_LEN * 4];
    uint32_t rl = sw_list_add(rooms, sw_list_begin(rooms, sizeof rooms), sizeof rooms, r.ptr, r.len);
    uint32_t n = puts_(out, 0, "[{\"room\":\"");
    n = put(out, n, r.ptr, r.len);
    n = puts_(out, n, "\",\"from\":\"");
    n = put(out, n, f->socket_id.ptr, f->socket_id.len);
    n = puts_(out, n, "\",\"text\":\"");
    n = put(out, n, text.ptr, text.len);
    n = puts_(out, n, "\"}]");
    sw_broadcast(rooms, rl, 0, 0, SW_BROADCAST_EXCEPT_SENDER, "said", 4, out, n, 0, 0);
    ack(f, "[{\"ok\":true}]", 13);
}

static void left(const sw_frame *f) {
    sw_bytes r;
    for (uint32_t i = 0; sw_frame_room(f, i, &r) == 0; i++) {
        uint8_t rooms[4 + 4 + 256];
        uint32_t rl = sw_list_add(rooms, sw_list_begin(rooms, sizeof rooms), sizeof rooms, r.ptr, r.len);
        if (rl == 0) continue;
        /* room names and reasons here need no escaping: rooms with escapes were refused */
        uint32_t n = puts_(out, 0, "[{\"room\":\"");
        n = put(out, n, r.ptr, r.len);
        n = puts_(out, n, "\",\"id\":\"");
        n = put(out, n, f->socket_id.ptr, f->socket_id.len);
        n = puts_(out, n, "\",\"reason\":\"");
        n = put(out, n, f->reason.ptr, f->reason.len);
        n = puts_(out, n, "\"}]");
        sw_broadcast(rooms, rl, 0, 0, 0, "left", 4, out, n, 0, 0);
    }
}

SOCKWASM_HANDLE(kind, len) {
    sw_frame f;
    if (len > (int32_t)sizeof in || sw_read_frame(in, len, &f) != 0) return 0;
    switch (kind) {
    case SW_KIND_MIDDLEWARE: {
        sw_bytes tok;
        if (f.auth.len > 0 && field(f.auth, 0, "token", &tok) == 0 && eq(tok, "bad")) {
            static const char data[] = "{\"code\":401}";
            sw_reject("unauthorized", 12, data, sizeof data - 1);
        }
        return 0;
    }
    case SW_KIND_DISCONNECT:
        left(&f);
        return 0;
    case SW_KIND_EVENT:
        break;
    default:
        return 0;
    }
    if (eq(f.event, "echo")) {
        /* forward the attachments by reference: no copy through the guest */
        uint8_t atts[4 + 4 * 10];
        uint32_t k = f.attachments > 10 ? 10 : f.attachments;
        sw_put_u32(atts, k);
        for (uint32_t i = 0; i < k; i++) sw_put_u32(atts + 4 + 4 * i, SW_ATTACHMENT_REF(i));
        if (f.flags & SW_FLAG_HAS_ACK)
            sw_ack(f.ack_id, f.args.ptr, f.args.len, atts, k ? 4 + 4 * k : 0);
        else
            sw_emit("echo-back", 9, f.args.ptr, f.args.len, atts, k ? 4 + 4 * k : 0);
    } else if (eq(f.event, "join")) {
        membership(&f, 1);
    } else if (eq(f.event, "leave")) {
        membership(&f, 0);
    } else if (eq(f.event, "say")) {
        say(&f);
    }
    return 0;
}
