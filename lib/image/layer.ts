// The one layer a catalog build adds: a gzip'd tar holding a single regular file (`bundles.db`)
// at the archive root, so it lands at `/bundles.db` in the image where registry-server looks —
// or, for a file-based catalog, the `configs/` tree and the pre-built serve cache (several
// entries, directories included, each with the mode the cache digest was computed over).
// Everything that could vary between runs is fixed, so the same DB gives the same layer digest:
// mode 0644 (readable by the arbitrary non-root UID OpenShift runs with), uid/gid 0 with no
// user/group names, mtime = SOURCE_DATE_EPOCH (or 0), no directory entries, and a gzip header
// with mtime 0, no file name and OS byte 255 ("unknown", what Go's compress/gzip and so oc
// wrote). Node's zlib writes the OS byte of the platform it was built for (3 on Linux), which
// would make the digest depend on the machine, so it is overwritten.
// The DB is streamed through tar and gzip once, hashing the tar (diffId) and the gzip (digest)
// on the way; only the compressed bytes are kept in memory.
import { createHash } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import tarStream from 'tar-stream';

export interface LayerContent {
  /** Size of the file in bytes (tar headers carry it before the data). */
  size: number;
  /** The file's bytes, whole or as a stream of chunks. */
  data: Uint8Array | AsyncIterable<Uint8Array>;
}

export interface LayerOptions {
  /** File name at the archive root; `bundles.db` as oc wrote it. */
  name?: string;
  /** Seconds since the epoch for the entry's mtime: SOURCE_DATE_EPOCH, else 0. */
  mtime?: number;
  /** gzip level; the default (6) matches oc's gzip.NewWriter. */
  level?: number;
}

export interface Layer {
  /** The gzip'd tar, as chunks (concatenate or stream them; never copied into one buffer here). */
  chunks: Uint8Array[];
  /** `sha256:` of the compressed bytes: the blob digest in the manifest. */
  digest: string;
  /** Compressed size in bytes. */
  size: number;
  /** `sha256:` of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: string;
  /** Uncompressed tar size in bytes. */
  tarSize: number;
}

export const DB_FILE_NAME = 'bundles.db';
const GZIP_OS_UNKNOWN = 0xff;

/** The part of tar-stream's entry writer (a streamx Writable) that feeding it needs. */
interface EntrySink {
  write(chunk: Uint8Array): boolean;
  once(event: 'drain', listener: () => void): unknown;
  end(): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** Hashes (and counts) whatever passes through. */
function hashingTap(onDone: (hex: string, size: number) => void): Transform {
  const hash = createHash('sha256');
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      onDone(hash.digest('hex'), size);
      cb();
    },
  });
}

async function writeEntryData(
  entry: EntrySink,
  done: Promise<void>,
  data: LayerContent['data'],
): Promise<void> {
  const chunks: AsyncIterable<Uint8Array> | Uint8Array[] =
    data instanceof Uint8Array ? [data] : data;
  for await (const chunk of chunks) {
    // Back-pressure: wait for the tar entry to drain, or for it to fail (size mismatch, destroy).
    if (!entry.write(chunk))
      await Promise.race([
        new Promise<void>((resolve) => entry.once('drain', () => resolve())),
        done,
      ]);
  }
  entry.end();
  await done;
}

/** One entry of a multi-entry layer: a directory (no data) or a regular file. */
export interface LayerEntry {
  /** Path inside the image without a leading slash; directories without a trailing one. */
  path: string;
  /** Permission bits (sticky bit allowed), e.g. 0o644, 0o1777. */
  mode: number;
  /** A regular file's content; absent for a directory. */
  data?: LayerContent;
}

/** Builds the deterministic single-file layer. Same content and options → same bytes and digests. */
export function buildLayer(content: LayerContent, options: LayerOptions = {}): Promise<Layer> {
  return buildTreeLayer(
    [{ path: options.name ?? DB_FILE_NAME, mode: 0o644, data: content }],
    options,
  );
}

function addEntry(pack: tarStream.Pack, e: LayerEntry, mtime: number): Promise<void> {
  const header = {
    name: e.path,
    mode: e.mode,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    mtime: new Date(mtime * 1000),
  };
  if (!e.data) {
    return new Promise<void>((resolve, reject) => {
      pack.entry({ ...header, type: 'directory' }, (err) => (err ? reject(err) : resolve()));
    });
  }
  let entry!: EntrySink;
  const done = new Promise<void>((resolve, reject) => {
    entry = pack.entry({ ...header, type: 'file', size: e.data!.size }, (err) =>
      err ? reject(err) : resolve(),
    ) as unknown as EntrySink;
  });
  // The entry's failure (e.g. size mismatch) is reported through `done`; the listener only
  // keeps it from also surfacing as an unhandled 'error' event.
  entry.on('error', () => {});
  return writeEntryData(entry, done, e.data.data);
}

/**
 * Builds a deterministic layer of several entries, written in the order given (callers list
 * parents before children). Same entries and options → same bytes and digests.
 */
export async function buildTreeLayer(
  entries: readonly LayerEntry[],
  options: LayerOptions = {},
): Promise<Layer> {
  const mtime = options.mtime ?? 0;
  if (!Number.isInteger(mtime) || mtime < 0)
    throw new RangeError(`building layer: mtime must be whole seconds >= 0, got ${mtime}`);
  const pack = tarStream.pack();
  let diffHex = '';
  let tarSize = 0;
  const chunks: Uint8Array[] = [];
  const feeding = (async () => {
    for (const e of entries) await addEntry(pack, e, mtime);
  })().then(
    () => pack.finalize(),
    (err: unknown) => {
      pack.destroy(err as Error);
      throw err;
    },
  );
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  await Promise.all([
    feeding,
    pipeline(
      pack as unknown as Readable,
      hashingTap((hex, size) => {
        diffHex = hex;
        tarSize = size;
      }),
      createGzip({ level: options.level ?? zlibConstants.Z_DEFAULT_COMPRESSION }),
      sink,
    ),
  ]);
  fixGzipHeader(chunks);
  const hash = createHash('sha256');
  let size = 0;
  for (const c of chunks) {
    hash.update(c);
    size += c.length;
  }
  return {
    chunks,
    digest: `sha256:${hash.digest('hex')}`,
    size,
    diffId: `sha256:${diffHex}`,
    tarSize,
  };
}

/** Sets the gzip header's OS byte to 255 and checks the rest is what we promise (no mtime, no name). */
function fixGzipHeader(chunks: Uint8Array[]): void {
  const first = chunks[0];
  if (!first || first.length < 10) {
    // zlib emits the 10-byte header in one piece; anything else is a broken invariant.
    throw new Error('building layer: gzip output shorter than its header');
  }
  const flags = first[3];
  const mtime = (first[4]! | (first[5]! << 8) | (first[6]! << 16) | (first[7]! << 24)) >>> 0;
  if (first[0] !== 0x1f || first[1] !== 0x8b || flags !== 0 || mtime !== 0) {
    throw new Error('building layer: unexpected gzip header from zlib');
  }
  first[9] = GZIP_OS_UNKNOWN;
}

/** The layer's bytes as a stream (for uploads and store writes). */
export function layerStream(layer: Layer): Readable {
  return Readable.from(layer.chunks, { objectMode: false });
}
