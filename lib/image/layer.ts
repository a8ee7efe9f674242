// The one layer a catalog build adds: a gzip'd tar holding a single regular file (`bundles.db`)
// at the archive root, so it lands at `/bundles.db` in the image where registry-server looks —
// or, for a file-based catalog, the `configs/` tree and the pre-built serve cache (several
// entries, directories included, each with the mode the cache digest was computed over).
// Everything that could vary between runs is fixed, so the same DB gives the same layer digest:
// mode 0644 (readable by the arbitrary non-root UID OpenShift runs with), uid/gid 0 with no
// user/group names, mtime = SOURCE_DATE_EPOCH (or 0), no directory entries, and a gzip header
// with mtime 0, no file name and OS byte 255 ("unknown", what Go's compress/gzip and so oc
// wrote). Node's zlib writes the OS byte of the platform it was built for (3 on Linux), which
// would make the digest depend on the machine, so it is overwritten as the header streams by.
// The layer is a stream (`streamTreeLayer`): DB → tar-stream entry → node:zlib gzip → the
// caller's sink (a store object), hashing the tar (diffId) and the gzip (digest) on the way,
// so a 1 GB DB is never held whole, nor its layer; the digests are known once the stream ends.
// `buildLayer`/`buildTreeLayer` collect that same stream in memory for small layers (tests,
// synthetic images). Only the OS-byte patch is hand-written; tar and deflate are the libraries'.
import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
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

/** What describes a layer in a manifest and config, known once its bytes have streamed by. */
export interface LayerDigests {
  /** `sha256:` of the compressed bytes: the blob digest in the manifest. */
  digest: string;
  /** Compressed size in bytes. */
  size: number;
  /** `sha256:` of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: string;
  /** Uncompressed tar size in bytes. */
  tarSize: number;
}

/** A layer collected in memory (small layers only: tests, synthetic images). */
export interface Layer extends LayerDigests {
  /** The gzip'd tar, as chunks (concatenate or stream them; never copied into one buffer here). */
  chunks: Uint8Array[];
}

/** A layer being written: its bytes to consume, and its digests once they have all passed. */
export interface LayerStream {
  /** The gzip'd tar. Fails (is destroyed) when an entry's data fails or has the wrong size. */
  bytes: Readable;
  /**
   * Settles after the last byte has been handed to `bytes`' reader; rejects on the same
   * failures as the stream (already observed, so an unread rejection is never unhandled).
   */
  digests: Promise<LayerDigests>;
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

/** Collects a streamed layer in memory. */
async function collect(layer: LayerStream): Promise<Layer> {
  const chunks: Uint8Array[] = [];
  for await (const c of layer.bytes) chunks.push(c as Uint8Array);
  return { chunks, ...(await layer.digests) };
}

/**
 * Builds a deterministic layer of several entries in memory, written in the order given
 * (callers list parents before children). Same entries and options → same bytes and digests.
 */
export function buildTreeLayer(
  entries: readonly LayerEntry[],
  options: LayerOptions = {},
): Promise<Layer> {
  try {
    return collect(streamTreeLayer(entries, options));
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Streams a deterministic layer of several entries, written in the order given (callers list
 * parents before children): each entry's data is read only when the tar reaches it, with
 * back-pressure all the way from the reader of `bytes`. Same entries and options → same bytes
 * and digests as `buildTreeLayer`.
 */
export function streamTreeLayer(
  entries: readonly LayerEntry[],
  options: LayerOptions = {},
): LayerStream {
  const mtime = options.mtime ?? 0;
  if (!Number.isInteger(mtime) || mtime < 0)
    throw new RangeError(`building layer: mtime must be whole seconds >= 0, got ${mtime}`);
  const pack = tarStream.pack();
  const tar = { hex: '', size: 0 };
  const gz = { hex: '', size: 0 };
  const feeding = (async () => {
    for (const e of entries) await addEntry(pack, e, mtime);
  })().then(
    () => pack.finalize(),
    (err: unknown) => {
      pack.destroy(err as Error);
      throw err;
    },
  );
  const bytes = hashingTap((hex, size) => {
    gz.hex = hex;
    gz.size = size;
  });
  // The last stream is our reader's: pipeline settles once its writable side has finished,
  // and destroys every stage (the tar feeder included) when any of them, or the reader, fails.
  const piping = pipeline(
    pack as unknown as Readable,
    hashingTap((hex, size) => {
      tar.hex = hex;
      tar.size = size;
    }),
    createGzip({ level: options.level ?? zlibConstants.Z_DEFAULT_COMPRESSION }),
    gzipHeaderFix(),
    bytes,
  );
  const digests = Promise.all([feeding, piping]).then(() => ({
    digest: `sha256:${gz.hex}`,
    size: gz.size,
    diffId: `sha256:${tar.hex}`,
    tarSize: tar.size,
  }));
  digests.catch(() => {});
  return { bytes, digests };
}

const GZIP_HEADER_SIZE = 10;
const GZIP_OS_OFFSET = 9;

/**
 * Sets the gzip header's OS byte to 255 as it streams by, and checks the rest of the header is
 * what we promise (magic, deflate, no flags — so no name —, mtime 0), wherever zlib's chunks
 * happen to split it.
 */
function gzipHeaderFix(): Transform {
  const header = Buffer.alloc(GZIP_HEADER_SIZE);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (seen < GZIP_HEADER_SIZE) {
        const take = Math.min(GZIP_HEADER_SIZE - seen, chunk.length);
        chunk.copy(header, seen, 0, take);
        if (seen <= GZIP_OS_OFFSET && GZIP_OS_OFFSET < seen + chunk.length)
          chunk[GZIP_OS_OFFSET - seen] = GZIP_OS_UNKNOWN;
        seen += take;
        if (seen === GZIP_HEADER_SIZE) {
          const mtime = header.readUInt32LE(4);
          if (
            header[0] !== 0x1f ||
            header[1] !== 0x8b ||
            header[2] !== 8 ||
            header[3] !== 0 ||
            mtime !== 0
          ) {
            cb(new Error('building layer: unexpected gzip header from zlib'));
            return;
          }
        }
      }
      cb(null, chunk);
    },
    flush(cb) {
      // zlib always writes at least a header and a trailer; anything else is a broken invariant.
      cb(
        seen < GZIP_HEADER_SIZE
          ? new Error('building layer: gzip output shorter than its header')
          : null,
      );
    },
  });
}
