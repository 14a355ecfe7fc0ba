// The outbound HTTP part of the SDK (httpRequest, onHTTPResponse), run by
// the host's tests (host/plugin/as_http_test.go, TestASSDKHTTP).

import { Event, HTTPResponse, Socket, httpRequest, onEvent, onHTTPResponse, quote } from "../index";

export { sockwasm_abi_v1, sockwasm_handle } from "../index";

// fetch [url, ctx] acks the request id or the error code.
onEvent("fetch", (s: Socket, e: Event): void => {
  let url = e.arg(0).asString();
  let ctx = e.arg(1).asString();
  let id = httpRequest("POST", url != null ? url : "", '{"x-test":"as","content-type":"text/plain"}', "from as",
    Uint8Array.wrap(String.UTF8.encode(ctx != null ? ctx : "")));
  e.ack("[" + id.toString() + "]");
});

onHTTPResponse((r: HTTPResponse): void => {
  let sock = r.socket;
  if (sock == null) return;
  let x = r.header("x-reply");
  let out = "[{\"id\":" + r.id.toString() + ",\"status\":" + r.status.toString() + ",\"failure\":" + quote(r.failure) +
    ",\"ok\":" + (r.ok ? "true" : "false") + ",\"body\":" + quote(r.text()) + ",\"x\":" + (x != null ? quote(x) : "null") +
    ",\"ctx\":" + quote(String.UTF8.decodeUnsafe(r.context.dataStart, <usize>r.context.length)) +
    ",\"auth\":" + sock.auth.toString() + ",\"sid\":" + quote(sock.id) + "}]";
  sock.emit("http-response", out);
});
