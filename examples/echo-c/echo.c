/*
 * echo-c: a sockwasm plugin in C, with sdk/c/sockwasm.h and no libc.
 *
 *   echo ...args      acks the same arguments (binary attachments forwarded)
 *   join ["room"]     joins the room; acks [size of the room]
 *   say ["room",msg]  sends "said" [msg] to the others in the room; acks ["ok"]
 *   on connection     emits "hello" [socket id]
 *
 * Build: clang --target=wasm32 -nostdlib -Wl,--no-entry -O2 -I ../../sdk/c -o build/echo-c.wasm echo.c
 */
#include "sockwasm.h"

SOCKWASM_ABI_V1

static uint8_t in[65536];
static uint8_t out[1024];

static int eq(sw_bytes b, const char *s) {
    uint32_t n = sw_strlen(s);
    if (b.len != n) return 0;
    for (uint32_t i = 0; i < n; i++)
        if (b.ptr[i] != (uint8_t)s[i]) return 0;
    return 1;
}

/* str reads the JSON string starting at args[*i] (no escapes: a room name
 * here is plain); advances *i past it. */
static int str(sw_bytes args, uint32_t *i, sw_bytes *s) {
    while (*i < args.len && (args.ptr[*i] == ' ' || args.ptr[*i] == '[' || args.ptr[*i] == ',')) (*i)++;
    if (*i >= args.len || args.ptr[*i] != '"') return -1;
    uint32_t start = ++*i;
    while (*i < args.len && args.ptr[*i] != '"') {
        if (args.ptr[*i] == '\\') return -1;
        (*i)++;
    }
    if (*i >= args.len) return -1;
    s->ptr = args.ptr + start;
    s->len = *i - start;
    (*i)++;
    return 0;
}

static void ack_text(const sw_frame *f, const char *json) {
    if (f->flags & SW_FLAG_HAS_ACK) sw_ack(f->ack_id, json, sw_strlen(json), 0, 0);
}

static void ack_int(const sw_frame *f, int32_t v) {
    char buf[16];
    int n = 0;
    buf[n++] = '[';
    if (v < 0) {
        buf[n++] = '-';
        v = -v;
    }
    char digits[11];
    int d = 0;
    do digits[d++] = (char)('0' + v % 10); while ((v /= 10) > 0);
    while (d > 0) buf[n++] = digits[--d];
    buf[n++] = ']';
    if (f->flags & SW_FLAG_HAS_ACK) sw_ack(f->ack_id, buf, (uint32_t)n, 0, 0);
}

SOCKWASM_HANDLE(kind, len) {
    sw_frame f;
    if (len > (int32_t)sizeof in || sw_read_frame(in, len, &f) != 0) return 0;
    if (kind == SW_KIND_CONNECT) {
        /* ["<id>"]: socket ids are URL-safe, no escaping needed */
        uint32_t n = 0;
        out[n++] = '[';
        out[n++] = '"';
        for (uint32_t i = 0; i < f.socket_id.len && n < sizeof out - 2; i++) out[n++] = f.socket_id.ptr[i];
        out[n++] = '"';
        out[n++] = ']';
        sw_emit("hello", 5, out, n, 0, 0);
        return 0;
    }
    if (kind != SW_KIND_EVENT) return 0; /* every other kind: nothing to do */

    if (eq(f.event, "echo")) {
        if (!(f.flags & SW_FLAG_HAS_ACK)) return 0;
        /* forward the attachments by reference: no copy through the guest */
        uint8_t atts[4 + 4 * 10];
        uint32_t n = f.attachments > 10 ? 10 : f.attachments;
        sw_put_u32(atts, n);
        for (uint32_t i = 0; i < n; i++) sw_put_u32(atts + 4 + 4 * i, SW_ATTACHMENT_REF(i));
        sw_ack(f.ack_id, f.args.ptr, f.args.len, atts, n ? 4 + 4 * n : 0);
        return 0;
    }
    if (eq(f.event, "join")) {
        uint32_t i = 0;
        sw_bytes room;
        if (str(f.args, &i, &room) != 0 || room.len == 0) {
            ack_text(&f, "[{\"error\":\"want [room]\"}]");
            return 0;
        }
        int32_t r = sw_join(room.ptr, room.len);
        ack_int(&f, r < 0 ? r : sw_room_size(room.ptr, room.len));
        return 0;
    }
    if (eq(f.event, "say")) {
        uint32_t i = 0;
        sw_bytes room, msg;
        if (str(f.args, &i, &room) != 0 || str(f.args, &i, &msg) != 0) {
            ack_text(&f, "[{\"error\":\"want [room, text]\"}]");
            return 0;
        }
        uint8_t rooms[300];
        uint32_t rl = sw_list_add(rooms, sw_list_begin(rooms, sizeof rooms), sizeof rooms, room.ptr, room.len);
        uint32_t n = 0;
        out[n++] = '[';
        out[n++] = '"';
        for (uint32_t k = 0; k < msg.len && n < sizeof out - 2; k++) out[n++] = msg.ptr[k];
        out[n++] = '"';
        out[n++] = ']';
        int32_t r = rl ? sw_broadcast(rooms, rl, 0, 0, SW_BROADCAST_EXCEPT_SENDER, "said", 4, out, n, 0, 0) : SW_ERR_LIMIT;
        if (r < 0)
            ack_int(&f, r);
        else
            ack_text(&f, "[\"ok\"]");
        return 0;
    }
    return 0;
}
