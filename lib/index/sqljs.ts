// Loads the sql.js WebAssembly module once per process. The .wasm file sits next to
// sql.js's own entry point in node_modules; bundlers (esbuild for Lambda) copy it beside the
// handler instead, which SQLJS_WASM_PATH or a `wasmPath` argument can point to.
// SQLite's wasm is compiled by Liftoff only: V8's background TurboFan tier-up of the whole
// module costs a ~30 MB transient peak (a third of a small build's memory) and measured no
// faster on our insert-bound builds (docs/BENCHMARKS.md, "Scale").
import v8 from 'node:v8';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

let loading: Promise<SqlJsStatic> | undefined;

export function loadSqlJs(wasmPath = process.env.SQLJS_WASM_PATH): Promise<SqlJsStatic> {
  if (!loading) v8.setFlagsFromString('--liftoff-only');
  loading ??= initSqlJs(wasmPath ? { locateFile: () => wasmPath } : undefined);
  return loading;
}
