// Turns one App Registry package blob (a gzip'd tar, as operator-courier pushed it) into the
// manifest files upstream would have unpacked, as an in-memory FileTree, without a disk.
// Same placement rules as operator-registry v1.8.0 (upstream-spec §4) so the index matches:
// - nested (two or more regular files): `<repositoryName>/<entry name as in the tar>`,
//   including the tar's own leading folder when it has one;
// - flattened (one `bundle.yaml`): `<packageName>/` with one file per CSV, per CRD and the
//   package, re-serialised as YAML with sorted keys.
// Unlike upstream it is defensive: absolute paths, `..`, links and device entries never
// become files, and caps on entries, per-file and total size stop bombs early (gunzip itself
// is capped, so a bomb never inflates past the cap). `decodePackageBlob` turns a bad blob
// into a warning naming the package (never silently dropped, as upstream did); the strict
// variant throws the named error instead.
import { gunzipSync } from 'node:zlib';
import yaml from 'js-yaml';
import {
  DEFAULT_DECODE_LIMITS,
  type DecodeLimits,
  MAX_META_BYTES,
  maxTarBytes,
} from '../archive/limits.js';
import { readTar, type TarEntry, TarError, TarLimitError } from '../archive/tar.js';
import { compareWalkOrder, type FileTree, type TreeFile } from '../catalog/file-tree.js';
import {
  DEFAULT_DOCUMENT_LIMITS,
  DocumentLimitError,
  withinLimits,
} from '../catalog/yaml-document.js';
import {
  AppRegistryBlobError,
  AppRegistryBlobLimitError,
  AppRegistryUnsafeEntryError,
} from './errors.js';

export type BlobFormat = 'nested' | 'flattened';

export interface DecodedPackage {
  /** Paths relative to the manifests root (what upstream's `manifests-*` dir would hold). */
  files: FileTree;
  format: BlobFormat;
  /** Non-fatal findings, each naming the package. */
  warnings: string[];
  /** Set when the blob could not be decoded (then `files` is empty). */
  error?: { name: string; message: string };
}

/** Link and special-file warnings beyond this many are summarised in one line. */
const MAX_SKIP_WARNINGS = 20;

/**
 * Decodes a package blob; a blob that cannot be decoded contributes no files and one warning
 * `decoding package <name>: …` (with `error` set). Pure: no file system, no network.
 */
export function decodePackageBlob(
  gzBytes: Uint8Array,
  repositoryName: string,
  limits?: Partial<DecodeLimits>,
): DecodedPackage {
  try {
    return decodePackageBlobStrict(gzBytes, repositoryName, limits);
  } catch (err) {
    if (!(err instanceof AppRegistryBlobError)) throw err;
    return {
      files: [],
      format: 'nested',
      warnings: [`${err.message} (${err.name}; the package contributes nothing)`],
      error: { name: err.name, message: err.message },
    };
  }
}

/** Like decodePackageBlob, but throws AppRegistryBlobError (or a subclass) for a bad blob. */
export function decodePackageBlobStrict(
  gzBytes: Uint8Array,
  repositoryName: string,
  limits?: Partial<DecodeLimits>,
): DecodedPackage {
  const caps: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, ...limits };
  const what = `decoding package ${repositoryName}`;
  if (!isSafeSegment(repositoryName)) {
    throw new AppRegistryUnsafeEntryError(
      `${what}: the repository name is not a single path segment`,
    );
  }
  try {
    const tar = gunzip(gzBytes, caps);
    const scan = scanTar(tar, caps, repositoryName);
    if (scan.regularFiles.length >= 2) return nested(scan, repositoryName);
    return flattened(scan, repositoryName);
  } catch (err) {
    // The tar reader's neutral errors become this family's, named for the package.
    if (err instanceof TarLimitError)
      throw new AppRegistryBlobLimitError(`${what}: ${err.message}`, { cause: err });
    if (err instanceof TarError)
      throw new AppRegistryBlobError(`${what}: ${err.message}`, { cause: err });
    if (err instanceof AppRegistryBlobError && !err.message.startsWith(what)) {
      const Ctor = err.constructor as new (
        m: string,
        o?: { cause?: unknown },
      ) => AppRegistryBlobError;
      throw new Ctor(`${what}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

function gunzip(gz: Uint8Array, caps: DecodeLimits): Uint8Array {
  if (gz.length < 2 || gz[0] !== 0x1f || gz[1] !== 0x8b) {
    const head = Buffer.from(gz.subarray(0, 4)).toString('hex') || 'nothing';
    throw new AppRegistryBlobError(`not gzip data (starts with ${head})`);
  }
  const maxOutputLength = maxTarBytes(caps);
  try {
    // maxOutputLength makes zlib stop as soon as the output passes the cap, so a bomb costs
    // at most the cap in memory and time, never its full expansion.
    return gunzipSync(gz, { maxOutputLength });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || cause instanceof RangeError) {
      throw new AppRegistryBlobLimitError(
        `uncompressed size exceeds ${maxOutputLength} bytes (gzip bomb?)`,
        { cause },
      );
    }
    if (code === 'Z_BUF_ERROR') throw new AppRegistryBlobError('gzip data is truncated', { cause });
    throw new AppRegistryBlobError(`gzip data is corrupt: ${(cause as Error).message}`, { cause });
  }
}

interface Scan {
  regularFiles: { path: string; entry: TarEntry }[];
  dirs: Set<string>;
  warnings: string[];
}

function scanTar(tar: Uint8Array, caps: DecodeLimits, repositoryName: string): Scan {
  const scan: Scan = { regularFiles: [], dirs: new Set(), warnings: [] };
  let total = 0;
  let skipped = 0;
  for (const entry of readTar(tar, { maxEntries: caps.maxEntries, maxMetaBytes: MAX_META_BYTES })) {
    const path = safeRelativePath(entry.name);
    if (entry.type === 'file') {
      if (entry.size > caps.maxFileBytes) {
        throw new AppRegistryBlobLimitError(
          `file ${JSON.stringify(entry.name)} has ${entry.size} bytes, over the ${caps.maxFileBytes}-byte cap`,
        );
      }
      total += entry.size;
      if (total > caps.maxTotalBytes) {
        throw new AppRegistryBlobLimitError(`files hold more than ${caps.maxTotalBytes} bytes`);
      }
      if (path === '') throw new AppRegistryUnsafeEntryError('a regular file has an empty name');
      scan.regularFiles.push({ path, entry });
    } else if (entry.type === 'dir') {
      if (path !== '') scan.dirs.add(path);
    } else {
      // Upstream ignored these too; we say so. Nothing is ever created for them.
      skipped++;
      if (skipped <= MAX_SKIP_WARNINGS) {
        const target = entry.linkname ? ` -> ${JSON.stringify(entry.linkname)}` : '';
        const kind =
          entry.type === 'other' ? `entry of type ${JSON.stringify(entry.typeflag)}` : entry.type;
        scan.warnings.push(
          `decoding package ${repositoryName}: skipped ${kind} ${JSON.stringify(entry.name)}${target} (links and special files are never extracted)`,
        );
      }
    }
  }
  if (skipped > MAX_SKIP_WARNINGS) {
    scan.warnings.push(
      `decoding package ${repositoryName}: skipped ${skipped - MAX_SKIP_WARNINGS} more links or special files`,
    );
  }
  return scan;
}

/** The entry name as a clean relative path ('' for the archive root); throws when unsafe. */
function safeRelativePath(name: string): string {
  if (name.includes('\0'))
    throw new AppRegistryUnsafeEntryError(`entry name ${JSON.stringify(name)} contains NUL`);
  if (name.startsWith('/'))
    throw new AppRegistryUnsafeEntryError(`entry ${JSON.stringify(name)} has an absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw new AppRegistryUnsafeEntryError(
      `entry ${JSON.stringify(name)} leaves the package directory ("..")`,
    );
  return parts.join('/');
}

function isSafeSegment(name: string): boolean {
  return (
    name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0')
  );
}

function sortTree(files: Map<string, Uint8Array>): TreeFile[] {
  return [...files.entries()]
    .map(([path, data]) => ({ path, data }))
    .sort((a, b) => compareWalkOrder(a.path, b.path));
}

function nested(scan: Scan, repositoryName: string): DecodedPackage {
  const warnings = [...scan.warnings];
  const files = new Map<string, Uint8Array>();
  const parents = new Set<string>();
  for (const { path, entry } of scan.regularFiles) {
    const full = `${repositoryName}/${path}`;
    if (files.has(full)) {
      warnings.push(
        `decoding package ${repositoryName}: ${JSON.stringify(path)} appears twice; the last copy is used`,
      );
    }
    files.set(full, entry.data);
    const segs = full.split('/');
    for (let i = 1; i < segs.length; i++) parents.add(segs.slice(0, i).join('/'));
  }
  for (const p of parents) {
    if (files.has(p))
      throw new AppRegistryBlobError(
        `${JSON.stringify(p.slice(repositoryName.length + 1))} is both a file and a directory`,
      );
  }
  return { files: sortTree(files), format: 'nested', warnings };
}

// Field names of Kubernetes' ObjectMeta (the Go struct upstream decoded metadata into):
// other metadata keys were dropped when upstream re-serialised flattened manifests.
const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'clusterName',
  'managedFields',
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** TypeMeta (omitted when empty) + ObjectMeta (Go always writes creationTimestamp: null). */
function typeAndMeta(item: Obj): Obj {
  const out: Obj = {};
  if (item['apiVersion']) out['apiVersion'] = item['apiVersion'];
  if (item['kind']) out['kind'] = item['kind'];
  const meta: Obj = { creationTimestamp: null };
  if (isObj(item['metadata'])) {
    for (const [k, v] of Object.entries(item['metadata']))
      if (OBJECT_META_FIELDS.has(k)) meta[k] = v;
  }
  out['metadata'] = meta;
  return out;
}

/**
 * js-yaml within the document limits (a "billion laughs" in bundle.yaml would otherwise blow
 * up when re-serialised); over a limit is AppRegistryBlobLimitError, so the package is dropped.
 */
function loadLimited<T>(what: string, text: string, parse: (t: string) => T, all = false): T {
  try {
    return withinLimits(text, DEFAULT_DOCUMENT_LIMITS, parse, (v) =>
      all ? (v as unknown[]) : [v],
    );
  } catch (cause) {
    if (cause instanceof DocumentLimitError)
      throw new AppRegistryBlobLimitError(`${what}: ${cause.message}`, { cause });
    throw cause;
  }
}

function listOf(value: unknown, section: string): Obj[] {
  if (value === undefined || value === null || value === '') return [];
  if (typeof value !== 'string')
    throw new AppRegistryBlobError(`bundle.yaml data.${section} is not a YAML string`);
  let parsed: unknown;
  try {
    parsed = loadLimited(`parsing bundle.yaml data.${section}`, value, (t) => yaml.load(t));
  } catch (cause) {
    if (cause instanceof AppRegistryBlobError) throw cause;
    throw new AppRegistryBlobError(
      `parsing bundle.yaml data.${section}: ${(cause as Error).message.split('\n')[0]}`,
      { cause },
    );
  }
  if (parsed === null || parsed === undefined) return [];
  if (!Array.isArray(parsed) || !parsed.every(isObj)) {
    throw new AppRegistryBlobError(`bundle.yaml data.${section} is not a list of objects`);
  }
  return parsed;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function dumpYaml(value: unknown): Uint8Array {
  return new TextEncoder().encode(
    yaml.dump(value, { sortKeys: true, lineWidth: -1, noRefs: true }),
  );
}

function flattened(scan: Scan, repositoryName: string): DecodedPackage {
  const warnings = [...scan.warnings];
  const first = scan.regularFiles[0];
  if (!first) {
    warnings.push(
      `decoding package ${repositoryName}: the blob holds no regular file; the package contributes nothing`,
    );
    return { files: [], format: 'flattened', warnings };
  }
  let doc: unknown;
  try {
    doc = loadLimited(
      `parsing ${JSON.stringify(first.path)}`,
      new TextDecoder().decode(first.entry.data),
      (t) => yaml.loadAll(t),
      true,
    ).find((d) => d !== null && d !== undefined);
  } catch (cause) {
    if (cause instanceof AppRegistryBlobError) throw cause;
    throw new AppRegistryBlobError(
      `parsing ${JSON.stringify(first.path)}: ${(cause as Error).message.split('\n')[0]}`,
      { cause },
    );
  }
  const data = isObj(doc) && isObj(doc['data']) ? doc['data'] : {};
  const crds = listOf(data['customResourceDefinitions'], 'customResourceDefinitions');
  const csvs = listOf(data['clusterServiceVersions'], 'clusterServiceVersions');
  const packages = listOf(data['packages'], 'packages');
  const pkg = packages[0];
  if (!pkg) throw new AppRegistryBlobError(`${JSON.stringify(first.path)}: no packages found`);
  if (packages.length > 1) {
    warnings.push(
      `decoding package ${repositoryName}: bundle.yaml lists ${packages.length} packages; only the first is used (as upstream)`,
    );
  }
  const packageName = str(pkg['packageName']);
  if (!isSafeSegment(packageName)) {
    throw new AppRegistryUnsafeEntryError(
      `packageName ${JSON.stringify(packageName)} is not a single path segment`,
    );
  }
  const files = new Map<string, Uint8Array>();
  const put = (fileName: string, value: unknown) => {
    if (!isSafeSegment(fileName))
      throw new AppRegistryUnsafeEntryError(
        `file name ${JSON.stringify(fileName)} is not a single path segment`,
      );
    const path = `${packageName}/${fileName}`;
    if (files.has(path))
      warnings.push(
        `decoding package ${repositoryName}: ${fileName} is written twice; the last one is kept (as upstream)`,
      );
    files.set(path, dumpYaml(value));
  };
  for (const csv of csvs) {
    const out = typeAndMeta(csv);
    out['spec'] = csv['spec'] ?? null;
    put(
      `${str(isObj(csv['metadata']) ? csv['metadata']['name'] : '')}.clusterserviceversion.yaml`,
      out,
    );
  }
  for (const crd of crds) {
    const out = typeAndMeta(crd);
    const spec = isObj(crd['spec']) ? crd['spec'] : {};
    out['spec'] = spec;
    if (crd['status'] !== undefined) out['status'] = crd['status'];
    const names = isObj(spec['names']) ? spec['names'] : {};
    put(`${str(names['kind'])}-${str(spec['version'])}.crd.yaml`, out);
  }
  const channels = Array.isArray(pkg['channels'])
    ? pkg['channels'].map((c) => ({
        currentCSV: str(isObj(c) ? c['currentCSV'] : ''),
        name: str(isObj(c) ? c['name'] : ''),
      }))
    : null;
  put(`${packageName}.package.yaml`, {
    channels,
    defaultChannel: str(pkg['defaultChannel']),
    packageName,
  });
  return { files: sortTree(files), format: 'flattened', warnings };
}
