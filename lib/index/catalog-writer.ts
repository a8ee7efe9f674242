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
