// The serve-cache digest of `opm serve` (operator-registry v1.26.5, pkg/cache): FNV-1a 64 over
// the tar stream Go's archive/tar writes for a tree walked with fs.WalkDir — first the FBC
// root, then the cache's `cache/` directory, each its own archive (two zero blocks at the end
// of each). A server started with integrity enforced recomputes this over what the image
// holds and refuses to start on a mismatch, so every header byte counts: names are the walk
// paths (the root is "."), mode is the permission bits, uid/gid 0, no user/group names,
// mtime 0 (Go writes its zero time as the epoch), USTAR magic; a name that does not fit the
// USTAR name/prefix fields gets a PAX `path` record first, as Go's Writer chooses.
// Only the hash is produced: nothing here allocates the archive.
import { compareWalkOrder } from '../catalog/file-tree.js';

export interface TreeEntry {
  /** Slash-separated path relative to the root, no leading "./"; "" is not allowed. */
  path: string;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  /** Absent for a directory. */
  data?: Uint8Array;
}

/** A tree as WalkDir visits it: the root directory, then entries depth-first, names sorted. */
export interface Tree {
  rootMode: number;
  entries: TreeEntry[];
}

const BLOCK = 512;

/**
 * Incremental FNV-1a 64 on four 16-bit limbs: every intermediate product stays an exact small
 * integer, so the per-byte step is a handful of integer operations (no BigInt, no division).
 * prime = 2^40 + 0x1b3: h * prime = h * 0x1b3 + (h << 40), and << 40 is limb + 2, << 8.
 */
export class Fnv1a64 {
  private h0 = 0x2325;
  private h1 = 0x8422;
  private h2 = 0x9ce4;
  private h3 = 0xcbf2;

  update(bytes: Uint8Array): this {
    let { h0, h1, h2, h3 } = this;
    for (let i = 0; i < bytes.length; i++) {
      h0 ^= bytes[i]!;
      const t0 = h0 * 0x1b3;
      let t1 = h1 * 0x1b3;
      let t2 = h2 * 0x1b3 + (h0 << 8);
      const t3 = h3 * 0x1b3 + (h1 << 8);
      t1 += t0 >>> 16;
      h0 = t0 & 0xffff;
      t2 += t1 >>> 16;
      h1 = t1 & 0xffff;
      h3 = (t3 + (t2 >>> 16)) & 0xffff;
      h2 = t2 & 0xffff;
    }
    this.h0 = h0;
    this.h1 = h1;
    this.h2 = h2;
    this.h3 = h3;
    return this;
  }

  /** Lower-case hex, 16 digits (fmt "%x" of the 8-byte sum). */
  hex(): string {
    return [this.h3, this.h2, this.h1, this.h0]
      .map((h) => h.toString(16).padStart(4, '0'))
      .join('');
  }
}

const encoder = new TextEncoder();

function putString(block: Uint8Array, offset: number, size: number, s: string): void {
  const bytes = encoder.encode(s);
  block.set(bytes.subarray(0, size), offset);
}

/** Go's formatOctal: zero-padded octal leaving room for a NUL. */
function putOctal(block: Uint8Array, offset: number, size: number, n: number): void {
  putString(block, offset, size, n.toString(8).padStart(size - 1, '0'));
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Go's toASCII: drops NUL and everything outside ASCII. */
function toAscii(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c > 0 && c < 0x80) out += ch;
  }
  return out;
}

/** Go's splitUSTARPath: a prefix (<=155 bytes) and a name (<=100 bytes) split at a slash. */
function splitUstarPath(name: string): [string, string] | undefined {
  const length = name.length;
  if (length <= 100 || !isAscii(name)) return undefined;
  let i = Math.min(length - 1, 155);
  while (i > 0 && name[i] !== '/') i--;
  if (i <= 0) return undefined;
  const prefix = name.slice(0, i);
  const rest = name.slice(i + 1);
  if (rest.length === 0 || rest.length > 100) return undefined;
  return [prefix, rest];
}

/** Go's formatPAXRecord. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = encoder.encode(body).length;
  let size = bodyLength + String(bodyLength).length;
  if (String(size).length + bodyLength !== size) size = String(size).length + bodyLength;
  return `${size}${body}`;
}

/** templateV7Plus (and, with raw, writeRawFile: no device numbers). */
function header(
  name: string,
  mode: number,
  size: number,
  typeflag: string,
  raw = false,
): Uint8Array {
  const block = new Uint8Array(BLOCK);
  putString(block, 0, 100, name);
  putOctal(block, 100, 8, mode);
  putOctal(block, 108, 8, 0); // uid
  putOctal(block, 116, 8, 0); // gid
  putOctal(block, 124, 12, size);
  putOctal(block, 136, 12, 0); // mtime
  block[156] = typeflag.charCodeAt(0);
  putString(block, 257, 6, 'ustar\0');
  putString(block, 263, 2, '00');
  if (!raw) {
    putOctal(block, 329, 8, 0); // devmajor
    putOctal(block, 337, 8, 0); // devminor
  }
  return block;
}

function seal(block: Uint8Array, prefix = ''): Uint8Array {
  if (prefix) putString(block, 345, 155, prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  putString(block, 148, 7, sum.toString(8).padStart(6, '0'));
  block[155] = 0x20;
  return block;
}

/** Feeds one entry's header (and PAX record, if needed), data and padding to the hash. */
function hashEntry(hash: ByteSink, name: string, mode: number, data: Uint8Array | undefined): void {
  const size = data?.length ?? 0;
  const typeflag = data ? '0' : '5';
  const nameBytes = encoder.encode(name).length;
  const fitsUstar = nameBytes <= 100 && isAscii(name);
  const split = fitsUstar ? undefined : splitUstarPath(name);
  if (fitsUstar || split) {
    const block = header(split ? split[1] : name, mode, size, typeflag);
    hash.update(seal(block, split?.[0]));
  } else {
    // PAX: an extended header `<dir>/PaxHeaders.0/<file>` with the path record, then the
    // main header with the name cut to 100 bytes.
    const record = encoder.encode(paxRecord('path', name));
    const slash = name.lastIndexOf('/');
    const dir = slash >= 0 ? name.slice(0, slash + 1) : '';
    const file = name.slice(slash + 1);
    let paxName = toAscii(`${dir}PaxHeaders.0/${file}`);
    paxName = paxName.slice(0, 100).replace(/\/+$/, '');
    hash.update(seal(header(paxName, 0, record.length, 'x', true)));
    hash.update(record);
    pad(hash, record.length);
    const asciiName = toAscii(name);
    const main = header('', mode, size, typeflag);
    putString(main, 0, 100, asciiName.slice(0, 100));
    hash.update(seal(main));
  }
  if (data) {
    hash.update(data);
    pad(hash, data.length);
  }
}

const ZERO = new Uint8Array(BLOCK * 2);

function pad(hash: ByteSink, length: number): void {
  const rest = length % BLOCK;
  if (rest !== 0) hash.update(ZERO.subarray(0, BLOCK - rest));
}

/** Where the tar stream goes: the hash, or (in tests) a collector of the archive's bytes. */
export interface ByteSink {
  update(bytes: Uint8Array): unknown;
}

/**
 * The tar stream of one tree fed to the sink entry by entry, for a tree too big to hold: the
 * root at construction, then `entry` in walk order (parents before children), then `end`.
 */
export class TreeStream {
  constructor(
    private readonly sink: ByteSink,
    rootMode: number,
  ) {
    hashEntry(sink, '.', rootMode, undefined);
  }

  /** A directory (no data) or a file. */
  entry(path: string, mode: number, data?: Uint8Array): void {
    hashEntry(this.sink, path, mode, data);
  }

  end(): void {
    this.sink.update(ZERO);
  }
}

/** Adds the tar stream of one tree (fsToTar) to the sink. */
export function hashTree(hash: ByteSink, tree: Tree): void {
  const stream = new TreeStream(hash, tree.rootMode);
  for (const e of tree.entries) stream.entry(e.path, e.mode, e.data);
  stream.end();
}

/**
 * A tree from files alone: their parent directories are added with dirMode, and everything
 * is put in walk order.
 */
export function treeOf(
  files: ReadonlyArray<{ path: string; data: Uint8Array }>,
  modes: { dir: number; file: number },
): Tree {
  const entries = new Map<string, TreeEntry>();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!entries.has(dir)) entries.set(dir, { path: dir, mode: modes.dir });
    }
    entries.set(f.path, { path: f.path, mode: modes.file, data: f.data });
  }
  const sorted = [...entries.values()].sort((x, y) => compareWalkOrder(x.path, y.path));
  return { rootMode: modes.dir, entries: sorted };
}

/** The digest `opm serve` writes to and checks against `<cache-dir>/digest`. */
export function serveCacheDigest(configs: Tree, cache: Tree): string {
  const hash = new Fnv1a64();
  hashTree(hash, configs);
  hashTree(hash, cache);
  return hash.hex();
}
