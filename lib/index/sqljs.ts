// Loads the sql.js WebAssembly module once per process. The .wasm file sits next to
// sql.js's own entry point in node_modules; bundlers (esbuild for Lambda) copy it beside the
// handler instead, which SQLJS_WASM_PATH or a `wasmPath` argument can point to.
import initSqlJs, { type SqlJsStatic } from 'sql.js';

let loading: Promise<SqlJsStatic> | undefined;

export function loadSqlJs(wasmPath = process.env.SQLJS_WASM_PATH): Promise<SqlJsStatic> {
  loading ??= initSqlJs(wasmPath ? { locateFile: () => wasmPath } : undefined);
  return loading;
}
