// The catalog readers' one entry point (an adapter): turns what a person names on the command
// line, or what a build left in the store, into the neutral CatalogGraph. It decides what the
// input is — a build id in the store, an SQLite index file (schema 7 or 13), a file-based
// catalog directory or file, a catalog image — so that diff, graph and the report never
// switch on a format. Parsing stays in the pure modules (lib/catalog, lib/index).
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import {
  CatalogFormatError,
  type CatalogGraph,
  graphFromFbcObjects,
} from '../catalog/catalog-graph.js';
import { compareBytes } from '../catalog/file-tree.js';
import { CatalogError } from '../errors.js';
import { splitJsonStream } from '../index/fbc-read.js';
import { isSqliteFile, readIndexGraph } from '../index/read-index.js';
import { buildKeys } from '../store/keys.js';
import type { Store } from '../store/store.js';

export class CatalogSourceError extends CatalogError {
  override name = 'CatalogSourceError';
}

export interface CatalogSourceDeps {
  /** Where `build:<id>` (and a bare id that is not a path) is looked up. */
  store?: Store;
  /** Reads a catalog image (registry, oci:, file://) when the input names one. */
  readImage?: (ref: string) => Promise<LoadedCatalogFiles>;
}

/** What a catalog image carried: an index DB, or the files of an FBC directory. */
export type LoadedCatalogFiles =
  | { kind: 'sqlite'; bytes: Uint8Array }
  | { kind: 'fbc'; files: Array<{ path: string; text: string }> };

export interface ReadCatalog {
  graph: CatalogGraph;
  /** What was read, for messages and reports: "build b1", "FBC dir x", "SQLite index y (schema 7)". */
  description: string;
}

const FBC_EXTENSIONS = /\.(json|ya?ml)$/;

/** Objects of FBC files in walk order (paths in byte order), each file as JSON or YAML. */
export function fbcObjects(files: Array<{ path: string; text: string }>): unknown[] {
  const sorted = [...files].sort((a, b) => compareBytes(a.path, b.path));
  return sorted.flatMap((f) => {
    if (f.path.endsWith('.json'))
      try {
        return splitJsonStream(f.text).map((doc) => JSON.parse(doc) as unknown);
      } catch (err) {
        throw new CatalogFormatError(`reading ${f.path}: ${(err as Error).message}`);
      }
    try {
      return yaml.loadAll(f.text, undefined, { schema: yaml.CORE_SCHEMA, json: true });
    } catch (err) {
      throw new CatalogFormatError(`reading ${f.path}: ${(err as Error).message}`);
    }
  });
}

async function walkFbc(root: string): Promise<Array<{ path: string; text: string }>> {
  const out: Array<{ path: string; text: string }> = [];
  const visit = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await visit(full);
      else if (e.isFile() && FBC_EXTENSIONS.test(e.name))
        out.push({ path: path.relative(root, full), text: await readFile(full, 'utf8') });
    }
  };
  await visit(root);
  return out;
}

export async function graphOfFiles(files: LoadedCatalogFiles, what: string): Promise<ReadCatalog> {
  if (files.kind === 'sqlite') {
    const graph = await readIndexGraph(files.bytes, what);
    return {
      graph,
      description: `${what} (SQLite index${graph.schemaVersion ? `, schema ${graph.schemaVersion}` : ''})`,
    };
  }
  return { graph: graphFromFbcObjects(fbcObjects(files.files)), description: what };
}

/** Where an FBC build keeps its configs directory (FBC_OUTPUT_CONFIGS) inside the build. */
const STORED_FBC_DIR = 'configs';

/**
 * The catalog a stored build produced: its SQLite index (`bundles.db`), or the FBC files under
 * its `configs/`; undefined when the build has neither (it failed before build-index).
 */
export async function graphOfStoredBuild(
  store: Store,
  id: string,
): Promise<ReadCatalog | undefined> {
  const keys = buildKeys(id);
  if (await store.head(keys.db))
    return graphOfFiles({ kind: 'sqlite', bytes: await store.get(keys.db) }, `build ${id}`);
  const prefix = `${keys.catalogFile(STORED_FBC_DIR)}/`;
  const listed = (await store.list(prefix)).filter((o) => FBC_EXTENSIONS.test(o.key));
  if (listed.length === 0) return undefined;
  const files = await Promise.all(
    listed.map(async (o) => ({
      path: o.key.slice(prefix.length),
      text: new TextDecoder().decode(await store.get(o.key)),
    })),
  );
  return graphOfFiles({ kind: 'fbc', files }, `build ${id} (FBC)`);
}

async function fromBuild(store: Store, id: string): Promise<ReadCatalog> {
  const read = await graphOfStoredBuild(store, id);
  if (!read)
    throw new CatalogSourceError(`reading build ${id}: it has no catalog in ${store.location}`);
  return read;
}

/** True when the store holds a build of that id (its request). */
export async function isStoredBuild(store: Store, id: string): Promise<boolean> {
  try {
    return Boolean(await store.head(buildKeys(id).request));
  } catch {
    return false;
  }
}

/**
 * Reads a catalog named by `input`: `build:<id>`; an existing path (SQLite file, FBC file
 * or directory); a bare build id present in the store; otherwise a catalog image reference.
 */
export async function readCatalog(
  input: string,
  deps: CatalogSourceDeps = {},
): Promise<ReadCatalog> {
  if (input.startsWith('build:')) {
    if (!deps.store)
      throw new CatalogSourceError(`reading ${input}: no store to look the build up in`);
    return fromBuild(deps.store, input.slice('build:'.length));
  }
  const info =
    input.startsWith('oci:') || input.startsWith('file://')
      ? undefined
      : await stat(input).catch(() => undefined);
  if (info?.isDirectory()) {
    const files = await walkFbc(input);
    if (files.length === 0)
      throw new CatalogSourceError(
        `reading ${input}: no .json or .yaml files (not an FBC directory)`,
      );
    return graphOfFiles({ kind: 'fbc', files }, `FBC directory ${input}`);
  }
  if (info?.isFile()) {
    const bytes = new Uint8Array(await readFile(input));
    if (isSqliteFile(bytes)) return graphOfFiles({ kind: 'sqlite', bytes }, input);
    if (FBC_EXTENSIONS.test(input))
      return graphOfFiles(
        {
          kind: 'fbc',
          files: [{ path: path.basename(input), text: new TextDecoder().decode(bytes) }],
        },
        `FBC file ${input}`,
      );
    throw new CatalogSourceError(`reading ${input}: neither an SQLite index nor an FBC file`);
  }
  if (deps.store && (await isStoredBuild(deps.store, input))) return fromBuild(deps.store, input);
  if (!deps.readImage)
    throw new CatalogSourceError(`reading ${input}: no such file, directory or build`);
  const files = await deps.readImage(input);
  return graphOfFiles(files, files.kind === 'fbc' ? `image ${input} (FBC)` : `image ${input}`);
}
