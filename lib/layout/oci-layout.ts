// OCI image layouts (`oci:<dir>[:tag]`, as skopeo and umoci spell them): a directory with
// `oci-layout`, `index.json` and `blobs/sha256/<hex>`. Read as `--from` for offline builds and
// written as `--to`. Tags are index.json entries annotated `org.opencontainers.image.ref.name`.
// Everything read is verified against its digest; digests are checked against the sha256
// grammar before they become paths, so a hostile index.json cannot point outside `blobs/`.
// Writes go to a temporary file renamed into place, and index.json is rewritten last, so an
// interrupted write never leaves a tag pointing at missing blobs.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RegistryError } from '../errors.js';
import { fsCause, isFsError } from '../fs-errors.js';
import { sha256Digest } from '../image/digest.js';
import { MediaTypes } from '../image/media-types.js';
import { isSha256Digest } from '../image/reference.js';
import type { Descriptor, ImageIndex } from '../image/types.js';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** The layout is missing, malformed, lacks the tag, or a blob does not match its digest. */
export class OciLayoutError extends RegistryError {
  override name = 'OciLayoutError';
}

export type BlobData =
  | Uint8Array
  | (() => Readable | AsyncIterable<Uint8Array> | Promise<Readable | AsyncIterable<Uint8Array>>);

export class OciLayout {
  constructor(readonly dir: string) {}

  private blobPath(digest: string): string {
    if (!isSha256Digest(digest))
      throw new OciLayoutError(
        `using blob ${JSON.stringify(digest)} in oci:${this.dir}: not a sha256 digest`,
      );
    return path.join(this.dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  }

  /** index.json, or an empty index when the layout does not exist yet. */
  async readIndex(allowMissing = false): Promise<ImageIndex> {
    let text: string;
    try {
      text = await readFile(path.join(this.dir, 'index.json'), 'utf8');
    } catch (err) {
      if (allowMissing && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        return { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] };
      }
      throw new OciLayoutError(`reading oci:${this.dir}/index.json: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      const index = JSON.parse(text) as ImageIndex;
      if (!Array.isArray(index.manifests)) throw new Error('no manifests array');
      return index;
    } catch (err) {
      throw new OciLayoutError(`reading oci:${this.dir}/index.json: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /**
   * The index.json entry for `tag`; without a tag, the only entry (an error when there are
   * several, as skopeo does, rather than guessing).
   */
  async resolve(tag?: string): Promise<Descriptor> {
    const index = await this.readIndex();
    const matches =
      tag === undefined
        ? index.manifests
        : index.manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] === tag);
    if (matches.length === 0) {
      throw new OciLayoutError(
        `resolving oci:${this.dir}${tag === undefined ? '' : `:${tag}`}: no such image in index.json`,
      );
    }
    if (matches.length > 1) {
      throw new OciLayoutError(
        `resolving oci:${this.dir}${tag === undefined ? '' : `:${tag}`}: ${matches.length} images match; name one with :<tag>`,
      );
    }
    return matches[0]!;
  }

  async hasBlob(digest: string, size?: number): Promise<boolean> {
    return isFileOfSize(this.blobPath(digest), size);
  }

  /** The whole blob, verified. For manifests and configs (small). */
  async readBlob(digest: string): Promise<Uint8Array> {
    return readVerifiedFile(
      this.blobPath(digest),
      digest,
      `reading blob ${digest} from oci:${this.dir}`,
    );
  }

  /** A stream of the blob that fails at its end when the content does not hash to `digest`. */
  blobStream(digest: string): Readable {
    return verifiedReadStream(
      this.blobPath(digest),
      digest,
      `reading blob ${digest} from oci:${this.dir}`,
    );
  }

  /**
   * Writes a blob unless a file of that size is already there; the content is verified
   * against `digest` before it is renamed into place. Returns true when it wrote.
   */
  async writeBlob(digest: string, size: number, data: BlobData): Promise<boolean> {
    const target = this.blobPath(digest);
    if (await this.hasBlob(digest, size)) return false;
    await writeVerifiedFile(
      target,
      digest,
      size,
      data,
      `writing blob ${digest} to oci:${this.dir}`,
    );
    return true;
  }

  /**
   * Points `tag` (or, without a tag, an untagged entry) at `descriptor` in index.json, replacing
   * the entry that had the tag. Call after every blob it references is written.
   */
  async setTag(descriptor: Descriptor, tag?: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeAtomically(
      path.join(this.dir, 'oci-layout'),
      `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}`,
    );
    const index = await this.readIndex(true);
    const entry: Descriptor = {
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
    };
    if (descriptor.platform) entry.platform = descriptor.platform;
    if (tag !== undefined) entry.annotations = { [REF_NAME_ANNOTATION]: tag };
    index.manifests = [
      ...index.manifests.filter((d) =>
        tag === undefined
          ? d.digest !== descriptor.digest || d.annotations?.[REF_NAME_ANNOTATION] !== undefined
          : d.annotations?.[REF_NAME_ANNOTATION] !== tag,
      ),
      entry,
    ];
    await writeAtomically(path.join(this.dir, 'index.json'), JSON.stringify(index));
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (cause) {
    throw new OciLayoutError(`writing ${file}: ${fsCause(cause)}`, { cause });
  } finally {
    await rm(tmp, { force: true });
  }
}

/** A read stream of `file` that fails at its end (with OciLayoutError) unless it hashes to `digest`. */
export function verifiedReadStream(file: string, digest: string, action: string): Readable {
  const hash = createHash('sha256');
  const verify = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const got = `sha256:${hash.digest('hex')}`;
      cb(got === digest ? null : new OciLayoutError(`${action}: content has digest ${got}`));
    },
  });
  const src = createReadStream(file);
  src.on('error', (err) =>
    verify.destroy(new OciLayoutError(`${action}: ${err.message}`, { cause: err })),
  );
  return src.pipe(verify);
}

/** Writes `data` to a temporary file beside `target`, checks digest and size, renames it into place. */
export async function writeVerifiedFile(
  target: string,
  digest: string,
  size: number,
  data: BlobData,
  action: string,
): Promise<void> {
  const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await mkdir(path.dirname(target), { recursive: true });
    const hash = createHash('sha256');
    let n = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        n += chunk.length;
        cb(null, chunk);
      },
    });
    const source = data instanceof Uint8Array ? Readable.from([data]) : await data();
    await pipeline(source, tap, createWriteStream(tmp));
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== digest || n !== size) {
      throw new OciLayoutError(
        `${action}: content has digest ${got} and ${n} bytes (expected ${size})`,
      );
    }
    await rename(tmp, target);
  } catch (cause) {
    // Disk full, permission denied, a file where a directory should be: said as such.
    if (cause instanceof OciLayoutError || !isFsError(cause)) throw cause;
    throw new OciLayoutError(`${action}: ${fsCause(cause)}`, { cause });
  } finally {
    await rm(tmp, { force: true }).catch(() => {});
  }
}

/** True when `file` is a regular file (of `size` bytes, when given). */
export async function isFileOfSize(file: string, size?: number): Promise<boolean> {
  try {
    const s = await stat(file);
    return s.isFile() && (size === undefined || s.size === size);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** The whole file, checked against `digest` (OciLayoutError when unreadable or different). */
export async function readVerifiedFile(
  file: string,
  digest: string,
  action: string,
): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new OciLayoutError(`${action}: ${(err as Error).message}`, { cause: err });
  }
  const got = sha256Digest(bytes);
  if (got !== digest) throw new OciLayoutError(`${action}: content has digest ${got}`);
  return bytes;
}
