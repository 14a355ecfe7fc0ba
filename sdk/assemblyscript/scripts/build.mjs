#!/usr/bin/env node
// Builds a sockwasm plugin written in AssemblyScript and checks it against
// plugin ABI v1 (sdk/ABI.md section 1).
//
//   node build.mjs ENTRY.ts -o OUT.wasm [--runtime stub|minimal|incremental] [--debug] [-- ASC_OPTIONS…]
//
// Defaults: optimized release build (-O3 --noAssert), the stub runtime (no
// GC: the SDK discards what each call allocated when it returns), aborts
// logged through the host's log function (no imports outside sockwasm_v1).

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const usage = "usage: build.mjs ENTRY.ts -o OUT.wasm [--runtime stub|minimal|incremental] [--debug] [-- ASC_OPTIONS...]";

function parseArgs(argv) {
  const opts = { entry: null, out: null, runtime: "stub", debug: false, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") { opts.extra = argv.slice(i + 1); break; }
    if (a === "-o" || a === "--out") opts.out = argv[++i];
    else if (a === "--runtime") opts.runtime = argv[++i];
    else if (a === "--debug") opts.debug = true;
    else if (a === "-h" || a === "--help") { console.log(usage); process.exit(0); }
    else if (!a.startsWith("-") && !opts.entry) opts.entry = a;
    else { console.error(`build.mjs: unknown argument ${a}\n${usage}`); process.exit(2); }
  }
  if (!opts.entry || !opts.out) { console.error(usage); process.exit(2); }
  if (!["stub", "minimal", "incremental"].includes(opts.runtime)) {
    console.error(`build.mjs: unknown runtime ${opts.runtime}`);
    process.exit(2);
  }
  return opts;
}

// The compiler of the package being built (its node_modules), else the SDK's.
function findCompiler() {
  const roots = [process.cwd(), path.dirname(fileURLToPath(import.meta.url))];
  for (const root of roots) {
    for (let dir = path.resolve(root); ; dir = path.dirname(dir)) {
      const asc = path.join(dir, "node_modules", "assemblyscript", "dist", "asc.js");
      if (fs.existsSync(asc)) return asc;
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error("assemblyscript is not installed (npm ci)");
}

const ALLOWED_MODULES = new Set(["sockwasm_v1", "wasi_snapshot_preview1"]);

/** Returns the problems of a built module against ABI v1, [] when none. */
export function checkModule(bytes) {
  const mod = new WebAssembly.Module(bytes);
  const problems = [];
  const exports = new Map(WebAssembly.Module.exports(mod).map((e) => [e.name, e.kind]));
  if (exports.get("sockwasm_abi_v1") !== "function") problems.push("missing export sockwasm_abi_v1 (re-export it from the SDK in the entry file)");
  if (exports.get("sockwasm_handle") !== "function") problems.push("missing export sockwasm_handle (re-export it from the SDK in the entry file)");
  if (exports.get("memory") !== "memory") problems.push('missing exported memory "memory"');
  for (const imp of WebAssembly.Module.imports(mod)) {
    if (imp.kind !== "function") problems.push(`imports ${imp.kind} ${imp.module}.${imp.name}`);
    else if (!ALLOWED_MODULES.has(imp.module)) {
      problems.push(`imports ${imp.module}.${imp.name}, which the host does not provide` +
        (imp.module === "env" ? " (a standard library feature that needs the JavaScript host, e.g. Math.random, Date or trace)" : ""));
    }
  }
  return problems;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { main: asc } = await import(pathToFileURL(findCompiler()).href);
  const args = [
    opts.entry, "-o", opts.out,
    "--runtime", opts.runtime,
    "--use", "abort=sockwasmAbort",
    ...(opts.debug ? ["--debug"] : ["-O3", "--noAssert"]),
    ...opts.extra,
  ];
  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  const { error } = await asc(args, { stdout: process.stdout, stderr: process.stderr });
  if (error) {
    console.error(`build.mjs: ${opts.entry}: ${error.message}`);
    process.exit(1);
  }
  const bytes = fs.readFileSync(opts.out);
  const problems = checkModule(bytes);
  if (problems.length) {
    fs.rmSync(opts.out, { force: true });
    console.error(`build.mjs: ${opts.out} is not a sockwasm plugin:\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`${opts.out}: ${bytes.length} bytes (runtime ${opts.runtime})`);
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url))) {
  await main();
}
