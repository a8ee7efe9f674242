// A small, strict, synchronous tar reader and writer over in-memory bytes, shared by the two
// kinds of archive we unpack: App Registry package blobs and image layers (bundle and catalog
// images). Both are already in memory (hashed as they arrive), so walking them synchronously
// keeps decoding a pure function. The reader understands what real blobs and layers contain
// (POSIX ustar with prefix, PAX `x` records, GNU `L`/`K` long names, base-256 sizes) and
// reports every entry type, so the caller decides what is safe; it never touches a disk.
// Its errors are neutral (TarError, TarLimitError): each caller turns them into its own
// family's named error, with the subject it is reading. The writer exists for the App
// Registry server (deterministic packing) and for tests that need hostile archives.
import { BuilderError } from '../errors.js';

/** A malformed or truncated archive; callers re-throw it as their own family's error. */
export class TarError extends BuilderError {
  override name = 'TarError';
}

/** An archive past the reader's limits (entries, metadata records). */
export class TarLimitError extends TarError {
  override name = 'TarLimitError';
}

const BLOCK = 512;

export type TarEntryType =
  | 'file'
  | 'dir'
  | 'symlink'
  | 'hardlink'
  | 'char-device'
  | 'block-device'
  | 'fifo'
  | 'other';

export interface TarEntry {
  /** The entry's name as stored (PAX/GNU long names applied), not sanitised. */
  name: string;
  type: TarEntryType;
  /** The raw type flag, for messages about unknown types. */
  typeflag: string;
  mode: number;
  size: number;
  linkname: string;
  /** The entry's content: a view into the archive, not a copy. */
  data: Uint8Array;
}

export interface TarReadLimits {
  /** Stop with TarLimitError after this many entries (metadata entries count too). */
  maxEntries: number;
  /** Largest PAX or GNU long-name record accepted. */
  maxMetaBytes: number;
}

const decoder = new TextDecoder('utf-8');

function cString(block: Uint8Array, start: number, length: number): string {
  let end = start;
  const stop = start + length;
  while (end < stop && block[end] !== 0) end++;
  return decoder.decode(block.subarray(start, end));
}

function parseNumber(block: Uint8Array, start: number, length: number, field: string): number {
  const first = block[start]!;
  if (first & 0x80) {
    // Base-256 (GNU/star extension for values that do not fit in octal): big-endian,
    // the top bit of the first byte is the marker; negative values are never valid here.
    if (first & 0x40) throw new TarError(`reading tar header: negative ${field}`);
    let value = first & 0x3f;
    for (let i = start + 1; i < start + length; i++) {
      value = value * 256 + block[i]!;
      if (value > Number.MAX_SAFE_INTEGER)
        throw new TarError(`reading tar header: ${field} too large`);
    }
    return value;
  }
  const text = cString(block, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text))
    throw new TarError(`reading tar header: ${field} is not octal (${JSON.stringify(text)})`);
  return Number.parseInt(text, 8);
}

function checksumOk(block: Uint8Array): boolean {
  const stored = parseNumber(block, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function typeOf(flag: string, name: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
      // Old (pre-POSIX) archives mark directories only by a trailing slash.
      return name.endsWith('/') ? 'dir' : 'file';
    case '5':
      return 'dir';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    case '3':
      return 'char-device';
    case '4':
      return 'block-device';
    case '6':
      return 'fifo';
    default:
      return 'other';
  }
}

/** PAX extended header records: "<len> <key>=<value>\n", repeated. */
function parsePax(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    let space = pos;
    while (space < data.length && data[space] !== 0x20) space++;
    const len = Number.parseInt(decoder.decode(data.subarray(pos, space)), 10);
    if (!Number.isInteger(len) || len <= space - pos || pos + len > data.length) {
      throw new TarError('reading tar PAX header: malformed record');
    }
    const record = decoder.decode(data.subarray(space + 1, pos + len - 1));
    const eq = record.indexOf('=');
    if (eq <= 0) throw new TarError('reading tar PAX header: record without a key');
    out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

/**
 * Walks the entries of an uncompressed tar archive. Metadata entries (PAX `x`/`g`, GNU
 * `L`/`K`) are applied to the next entry and not yielded. Throws TarError on a
 * malformed or truncated archive and TarLimitError past `limits`.
 */
export function* readTar(bytes: Uint8Array, limits: TarReadLimits): Generator<TarEntry> {
  let pos = 0;
  let entries = 0;
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  while (true) {
    if (pos + BLOCK > bytes.length) {
      // A missing end-of-archive marker is tolerated (Go's reader does too) only at a
      // block boundary with nothing pending; anything else is a cut-off archive.
      if (pos === bytes.length && !pax && longName === undefined && longLink === undefined) return;
      throw new TarError('reading tar: archive is truncated (header cut off)');
    }
    const header = bytes.subarray(pos, pos + BLOCK);
    if (isZeroBlock(header)) return;
    if (!checksumOk(header))
      throw new TarError(`reading tar: bad header checksum at offset ${pos}`);
    entries++;
    if (entries > limits.maxEntries) {
      throw new TarLimitError(`reading tar: more than ${limits.maxEntries} entries`);
    }
    const flag = String.fromCharCode(header[156]!);
    let size = parseNumber(header, 124, 12, 'size');
    const paxSize = pax?.get('size');
    if (paxSize !== undefined && flag !== 'x' && flag !== 'g') {
      if (!/^\d+$/.test(paxSize)) throw new TarError('reading tar PAX header: bad size');
      size = Number(paxSize);
    }
    const dataStart = pos + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > bytes.length)
      throw new TarError('reading tar: archive is truncated (entry content cut off)');
    const data = bytes.subarray(dataStart, dataEnd);
    pos = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > limits.maxMetaBytes) {
        throw new TarLimitError(
          `reading tar: metadata record of ${size} bytes exceeds ${limits.maxMetaBytes}`,
        );
      }
      if (flag === 'x') pax = parsePax(data);
      // Global PAX headers only carry defaults (mtime, charset) that decoding ignores.
      else if (flag === 'L') longName = cString(data, 0, data.length);
      else if (flag === 'K') longLink = cString(data, 0, data.length);
      continue;
    }

    const magic = cString(header, 257, 6);
    const version = cString(header, 263, 2);
    let name = cString(header, 0, 100);
    // The prefix field exists in POSIX ustar only; GNU tar keeps atime/ctime there.
    if (magic === 'ustar' && version === '00') {
      const prefix = cString(header, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (longName !== undefined) name = longName;
    if (pax?.has('path')) name = pax.get('path')!;
    let linkname = cString(header, 157, 100);
    if (longLink !== undefined) linkname = longLink;
    if (pax?.has('linkpath')) linkname = pax.get('linkpath')!;
    pax = undefined;
    longName = undefined;
    longLink = undefined;

    yield {
      name,
      type: typeOf(flag, name),
      typeflag: flag,
      mode: parseNumber(header, 100, 8, 'mode'),
      size,
      linkname,
      data,
    };
  }
}

export interface TarWriteEntry {
  name: string;
  type?: TarEntryType;
  /** Raw type flag, overrides `type` (tests use it for odd entries). */
  typeflag?: string;
  data?: Uint8Array | string;
  mode?: number;
  linkname?: string;
  /** Seconds since the epoch; 0 by default so archives are reproducible. */
  mtime?: number;
  uid?: number;
  gid?: number;
}

const encoder = new TextEncoder();

const FLAG_OF: Record<TarEntryType, string> = {
  file: '0',
  dir: '5',
  symlink: '2',
  hardlink: '1',
  'char-device': '3',
  'block-device': '4',
  fifo: '6',
  other: '0',
};

function putString(block: Uint8Array, start: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  if (bytes.length > length) throw new RangeError(`tar field too long: ${value}`);
  block.set(bytes, start);
}

function putOctal(block: Uint8Array, start: number, length: number, value: number): void {
  putString(block, start, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

function headerBlock(
  name: string,
  flag: string,
  size: number,
  e: TarWriteEntry,
  prefix = '',
): Uint8Array {
  const block = new Uint8Array(BLOCK);
  putString(block, 0, 100, name);
  putOctal(block, 100, 8, e.mode ?? (flag === '5' ? 0o755 : 0o644));
  putOctal(block, 108, 8, e.uid ?? 0);
  putOctal(block, 116, 8, e.gid ?? 0);
  putOctal(block, 124, 12, size);
  putOctal(block, 136, 12, e.mtime ?? 0);
  block[156] = flag.charCodeAt(0);
  putString(block, 157, 100, e.linkname ?? '');
  putString(block, 257, 6, 'ustar\0');
  putString(block, 263, 2, '00');
  putString(block, 345, 155, prefix);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  putString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const base = encoder.encode(body).length;
  // The length counts its own digits: iterate until adding them no longer changes it.
  let len = base;
  while (base + String(len).length !== len) len = base + String(len).length;
  return `${len}${body}`;
}

/** Splits a long name into ustar prefix + name at a '/', or undefined when it cannot. */
function splitUstar(name: string): [string, string] | undefined {
  const bytes = encoder.encode(name);
  if (bytes.length <= 100) return ['', name];
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(rest).length <= 100 && rest)
      return [prefix, rest];
  }
  return undefined;
}

/**
 * Writes a ustar archive (PAX `x` records for names or link names ustar cannot hold) with
 * the given headers verbatim, in the given order, ending with two zero blocks.
 */
export function writeTar(entries: Iterable<TarWriteEntry>): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    total += b.length;
  };
  const pushData = (data: Uint8Array) => {
    push(data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) push(new Uint8Array(pad));
  };
  for (const e of entries) {
    const flag = e.typeflag ?? FLAG_OF[e.type ?? 'file'];
    const data =
      typeof e.data === 'string' ? encoder.encode(e.data) : (e.data ?? new Uint8Array(0));
    const split = splitUstar(e.name);
    const linkFits = encoder.encode(e.linkname ?? '').length <= 100;
    let name = e.name;
    let prefix = '';
    if (split && linkFits) {
      [prefix, name] = split;
    } else {
      let records = '';
      if (!split) records += paxRecord('path', e.name);
      if (!linkFits) records += paxRecord('linkpath', e.linkname ?? '');
      const paxData = encoder.encode(records);
      push(headerBlock('PaxHeader', 'x', paxData.length, { name: 'PaxHeader' }));
      pushData(paxData);
      name = split ? split[1] : encoder.encode(e.name).length <= 100 ? e.name : 'long-name';
      prefix = split ? split[0] : '';
    }
    const entry = linkFits ? e : { ...e, linkname: '' };
    push(headerBlock(name, flag, data.length, entry, prefix));
    pushData(data);
  }
  push(new Uint8Array(BLOCK * 2));
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
