// The one port every catalog output goes through: a CatalogWriter receives the loaded
// catalog piece by piece (begin, each Bundle, each Package, finish) and writes its files
// through a CatalogOutput, so a writer that produces one file (a SQLite DB) and one that
// produces a directory tree (a file-based catalog, one catalog.json per package) look the
// same to the stage, and a writer may write a package's files as soon as it has them
// (streaming) instead of holding the whole catalog. Writers encode; every decision was taken
// by lib/catalog. Which writer a format gets, and which loader rules it needs, is decided in
// catalog-formats.ts and nowhere else.
import { createHash } from 'node:crypto';
import type { Bundle, LoadedCatalog, LoaderRules, Package, Problem } from '../catalog/model.js';
import { CatalogError } from '../errors.js';

/** A catalog that could not be written (a model the output's constraints reject, bad input). */
export class IndexWriteError extends CatalogError {
  override name = 'IndexWriteError';
}

/** One file a writer produced, relative to the build's output root ('/'-separated). */
export interface CatalogFile {
  path: string;
  size: number;
  /** `sha256:<hex>` of the bytes. */
  digest: string;
}

/**
 * Where a writer puts its files: the stage maps a relative path to a store key, a test to a
 * map. Paths are relative and '/'-separated (`bundles.db`, `configs/etcd/catalog.json`).
 */
export interface CatalogOutput {
  writeFile(path: string, data: Uint8Array, contentType: string): Promise<void>;
  /**
   * A file given as consecutive parts, read once (a database leaving sql.js chunk by chunk),
   * so that it is never whole in memory; an output without it is given the parts joined.
   */
  writeFileParts?(
    path: string,
    parts: AsyncIterable<Uint8Array>,
    contentType: string,
  ): Promise<void>;
}

export interface CatalogWriteResult {
  format: string;
  /** Every file written, in the order written. */
  files: CatalogFile[];
  /** Rows per table (SQLite) or objects per schema (FBC), in the writer's reporting order. */
  counts: Record<string, number>;
  /** The same three totals for every format, for summaries and metrics. */
  totals: { packages: number; channels: number; bundles: number };
  /** What the writer left out and why (FBC: packages opm validate would reject), as warnings. */
  problems?: Problem[];
}

export interface CatalogWriter {
  /** The index format it writes (`sqlite-v7`, `sqlite`, `fbc`). */
  readonly format: string;
  /** The loader rules the catalog it is given must have been loaded with. */
  readonly rules: LoaderRules;
  /** Starts the output (a SQLite writer creates its schema here). */
  begin(): Promise<void>;
  /** Every bundle comes before any package, as upstream's two walks. */
  addBundle(bundle: Bundle): Promise<void>;
  addPackage(pkg: Package): Promise<void>;
  /** Writes what is still held and says what was written. */
  finish(): Promise<CatalogWriteResult>;
  /** Releases what the writer holds after a failure; safe to call more than once. */
  abort(): void;
  /**
   * Bytes of ArrayBuffers the writer holds as output so far (a database file's chunks): live
   * on purpose, so the stage's memory watch does not take them for garbage to collect.
   */
  heldBytes?(): number;
}

export function fileDigest(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Writes one file through the output and describes it. */
export async function writeCatalogFile(
  output: CatalogOutput,
  path: string,
  data: Uint8Array,
  contentType: string,
): Promise<CatalogFile> {
  await output.writeFile(path, data, contentType);
  return { path, size: data.length, digest: fileDigest(data) };
}

/**
 * Writes a file given in parts through the output, digesting the parts as they pass: with an
 * output that takes parts, no part is kept once written.
 */
export async function writeCatalogFileParts(
  output: CatalogOutput,
  path: string,
  parts: Iterable<Uint8Array>,
  contentType: string,
): Promise<CatalogFile> {
  const hash = createHash('sha256');
  let size = 0;
  async function* digested(): AsyncGenerator<Uint8Array> {
    for (const part of parts) {
      hash.update(part);
      size += part.length;
      yield part;
    }
  }
  if (output.writeFileParts) await output.writeFileParts(path, digested(), contentType);
  else {
    const all: Uint8Array[] = [];
    for await (const part of digested()) all.push(part);
    await output.writeFile(path, all.length === 1 ? all[0]! : Buffer.concat(all), contentType);
  }
  return { path, size, digest: `sha256:${hash.digest('hex')}` };
}

/** Drives a writer over a whole loaded catalog. */
export async function writeCatalog(
  writer: CatalogWriter,
  catalog: LoadedCatalog,
): Promise<CatalogWriteResult> {
  if (catalog.rules !== writer.rules) {
    throw new IndexWriteError(
      `writing a ${writer.format} catalog: it needs a catalog loaded with the ${writer.rules} rules, not ${catalog.rules}`,
    );
  }
  try {
    await writer.begin();
    for (const b of catalog.bundles) await writer.addBundle(b);
    for (const p of catalog.packages) await writer.addPackage(p);
    return await writer.finish();
  } catch (err) {
    writer.abort();
    throw err;
  }
}
