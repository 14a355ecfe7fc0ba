// The plugin-state part of the SDK (config, INIT, key-value store, timers),
// run by the host's tests (host/plugin/as_bench_test.go, TestASSDKState).

import {
  Event, Socket, Value, cancelTimer, config, kv, ofNamespace, onEvent, onInit, onTimer, quote, setTimer,
} from "../index";

export { sockwasm_abi_v1, sockwasm_handle } from "../index";

onInit((cfg: Value): string | null => {
  if (cfg.get("refuse").asBool(false)) return "refused by config";
  kv.set("init", cfg);
  return null;
});

onEvent("cfg", (s: Socket, e: Event): void => {
  let init = kv.getString("init");
  e.ack("[" + config().toString() + "," + (init != null ? init : "null") + "]");
});

onEvent("kv", (s: Socket, e: Event): void => {
  let out = "[";
  out += kv.set("a", "1").toString();
  out += "," + kv.incr("a", 41).toString();
  out += "," + quote(kv.getString("a")!);
  let missing = kv.get("nope");
  out += "," + (missing == null ? "true" : "false") + "," + kv.lastError.toString();
  out += "," + kv.compareAndSwap<string, string>("a", "42", "x").toString();
  out += "," + kv.compareAndSwap<string, string>("a", "42", "y").toString();
  out += "," + kv.compareAndSwap<string | null, string>("b", null, "new").toString();
  out += "," + kv.compareAndSwap<string, string | null>("b", "new", null).toString();
  out += "," + kv.remove("a").toString() + "," + kv.remove("a").toString();
  kv.incr("a", 1);
  out += "," + kv.incr("a", 1).toString();
  kv.set("s", "x");
  out += "," + kv.incr("s", 1).toString() + "," + kv.lastError.toString();
  e.ack(out + "]");
});

onEvent("timer", (s: Socket, e: Event): void => {
  let ctx = new Uint8Array(3);
  ctx[0] = 0x6f; ctx[1] = 0x6b; ctx[2] = 0x21; // "ok!"
  let id = setTimer(5, false, ctx);
  let other = setTimer(60000, true);
  e.ack("[" + (id > 0 ? "true" : "false") + "," + cancelTimer(other).toString() + "," + cancelTimer(other).toString() + "]");
});

onTimer((id: i32, ctx: Uint8Array): void => {
  // A TIMER call has no socket but may broadcast to a namespace.
  let sent = ofNamespace("/").to("r").except("x").volatile().emit("tick", "[1]");
  let missing = ofNamespace("/nope").emit("tick", "[1]");
  kv.set("nsb", "[" + sent.toString() + "," + missing.toString() + "]");
  kv.set("fired", ctx);
});

onEvent("nsb", (s: Socket, e: Event): void => {
  let r = kv.getString("nsb");
  e.ack(r != null ? r : "[null]");
});

onEvent("fired", (s: Socket, e: Event): void => {
  let f = kv.getString("fired");
  e.ack("[" + (f != null ? quote(f) : "null") + "]");
});
