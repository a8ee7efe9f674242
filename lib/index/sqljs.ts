// Loads the sql.js WebAssembly module once per process. The .wasm file sits next to
// sql.js's own entry point in node_modules; bundlers (esbuild for Lambda) copy it beside the
// handler instead, which SQLJS_WASM_PATH or a `wasmPath` argument can point to.
// SQLite's wasm is compiled by Liftoff only: V8's background TurboFan tier-up of the whole
// module costs a ~30 MB transient peak (a third of a small build's memory) and measured no
// faster on our insert-bound builds (docs/BENCHMARKS.md, "Scale").
// While sql.js instantiates its wasm, WebAssembly.instantiate is wrapped for that one call so
// the file imports can be wrapped (paged-file.ts: a database written by an index build is held
// by us, not by sql.js's in-memory file system, and leaves without a second copy). sql.js reads
// the .wasm itself, as before; Emscripten's own hook (Module.instantiateWasm) would have us
// read it, which the pure lib/index may not. The wrapper is removed at its first call.
// sql.js is a CommonJS module and is required, not imported: an ES import of it runs Node's
// CommonJS export lexer (cold JavaScript) over its 48 kB, ~40 ms of CPU per process, a
// twentieth of a dev-corpus build. `require` itself where it exists (esbuild's CommonJS Lambda
// bundles, which then bundle sql.js as before), a require made for this module otherwise.
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import type { Database, SqlJsStatic } from 'sql.js';
import { PagedFile, pagedFiles, type WasmMemory } from './paged-file.js';

const initSqlJs: (config?: { locateFile?: (file: string) => string }) => Promise<SqlJsStatic> =
  typeof require === 'function' ? require('sql.js') : createRequire(import.meta.url)('sql.js');

let loading: Promise<SqlJsStatic> | undefined;

// The slice of the WebAssembly global used here (the project's TypeScript libs do not type it).
type Instance = { exports: Record<string, unknown> };
type Instantiate = (
  source: unknown,
  imports?: Record<string, Record<string, unknown>>,
) => Promise<{ instance: Instance } | Instance>;
const Wasm = (
  globalThis as unknown as {
    WebAssembly: { instantiate: Instantiate; Memory: abstract new (...a: never[]) => WasmMemory };
  }
).WebAssembly;

async function instantiateWithPagedFiles(wasmPath: string | undefined): Promise<SqlJsStatic> {
  const original = Wasm.instantiate;
  Wasm.instantiate = async (source, imports) => {
    Wasm.instantiate = original;
    if (imports) pagedFiles.wrap(imports);
    const result = await original.call(Wasm, source, imports);
    const instance = 'instance' in result ? (result.instance as Instance) : result;
    const memory = Object.values(instance.exports).find((v) => v instanceof Wasm.Memory);
    if (memory) pagedFiles.setMemory(memory as WasmMemory);
    else pagedFiles.installed = false;
    return result;
  };
  try {
    return await initSqlJs(wasmPath ? { locateFile: () => wasmPath } : undefined);
  } finally {
    Wasm.instantiate = original;
  }
}

export function loadSqlJs(wasmPath = process.env.SQLJS_WASM_PATH): Promise<SqlJsStatic> {
  if (!loading) v8.setFlagsFromString('--liftoff-only');
  loading ??= instantiateWithPagedFiles(wasmPath);
  return loading;
}

/** Whether databases can be opened on a PagedFile (the file imports were recognised). */
export function pagedFilesAvailable(): boolean {
  return pagedFiles.installed;
}

/**
 * A database whose file is a PagedFile (a new empty one by default, or PagedFile.over(bytes) to
 * read a database without the copy `new SQL.Database(bytes)` makes), or undefined when the
 * imports were not recognised (another sql.js build): the caller then uses sql.js's own file.
 */
export function openPagedDatabase(
  SQL: SqlJsStatic,
  file: PagedFile = new PagedFile(),
): { db: Database; file: PagedFile } | undefined {
  if (!pagedFiles.installed) return undefined;
  const { result: db, path } = pagedFiles.capture(file, () => new SQL.Database());
  if (path !== `/${(db as unknown as { filename: string }).filename}`) {
    db.close();
    throw new Error(
      `opening a database on a paged file: sql.js opened ${path ?? 'no file'} instead of its database file`,
    );
  }
  return { db, file };
}
