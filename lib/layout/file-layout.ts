// oc's `file://` image layout under `--dir` (upstream-spec §7.3), as destination and source:
//   v2/<repository path>/blobs/sha256:<hex>       every blob, manifests included
//   v2/<repository path>/manifests/sha256:<hex>   hard link to the manifest's blob
//   v2/<repository path>/manifests/<tag>          symlink to `sha256:<hex>`
// `oc image mirror` and `oc adm catalog mirror` read this layout back. The repository path
// comes from the user, so it is checked segment by segment and the resolved directory must
// stay under the root (also after following symlinks that already exist there).

import { randomBytes } from 'node:crypto';
import {
  link,
  lstat,
  mkdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  symlink,
} from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { sha256Digest } from '../image/digest.js';
import { isSha256Digest } from '../image/reference.js';
import {
  type BlobData,
  isFileOfSize,
  OciLayoutError,
  readVerifiedFile,
  verifiedReadStream,
  writeVerifiedFile,
} from './oci-layout.js';

const SEGMENT = /^[A-Za-z0-9_[\]][A-Za-z0-9._:[\]-]*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** The `--dir` root and the repository path of one `file://` image. */
export class FileLayout {
  readonly repoDir: string;
  readonly label: string;

  constructor(
    readonly root: string,
    readonly repositoryPath: string,
  ) {
    this.label = `file://${repositoryPath}`;
    const segments = repositoryPath.split('/');
    if (segments.some((s) => !SEGMENT.test(s) || s === '.' || s === '..')) {
      throw new OciLayoutError(`using ${this.label} under ${root}: not a safe repository path`);
    }
    const v2 = path.resolve(root, 'v2');
    this.repoDir = path.resolve(v2, ...segments);
    if (!this.repoDir.startsWith(`${v2}${path.sep}`)) {
      throw new OciLayoutError(`using ${this.label} under ${root}: path escapes the root`);
    }
  }

  private blobPath(digest: string): string {
    if (!isSha256Digest(digest))
      throw new OciLayoutError(
        `using blob ${JSON.stringify(digest)} in ${this.label}: not a sha256 digest`,
      );
    return path.join(this.repoDir, 'blobs', digest);
  }

  private manifestPath(name: string): string {
    if (!isSha256Digest(name) && !TAG.test(name)) {
      throw new OciLayoutError(
        `using manifest ${JSON.stringify(name)} in ${this.label}: not a tag or digest`,
      );
    }
    return path.join(this.repoDir, 'manifests', name);
  }

  /** Creates the repository directories and refuses a tree whose existing symlinks lead outside the root. */
  private async prepare(): Promise<void> {
    await mkdir(path.join(this.repoDir, 'blobs'), { recursive: true });
    await mkdir(path.join(this.repoDir, 'manifests'), { recursive: true });
    const [realRoot, realRepo] = await Promise.all([realpath(this.root), realpath(this.repoDir)]);
    if (!realRepo.startsWith(`${realRoot}${path.sep}`)) {
      throw new OciLayoutError(
        `using ${this.label} under ${this.root}: a symlink leads outside the root`,
      );
    }
  }

  async hasBlob(digest: string, size?: number): Promise<boolean> {
    return isFileOfSize(this.blobPath(digest), size);
  }

  /** Writes a blob (verified) unless it is there already; true when written. */
  async writeBlob(digest: string, size: number, data: BlobData): Promise<boolean> {
    await this.prepare();
    if (await this.hasBlob(digest, size)) return false;
    await writeVerifiedFile(
      this.blobPath(digest),
      digest,
      size,
      data,
      `writing blob ${digest} to ${this.label}`,
    );
    return true;
  }

  /** Stores a manifest as a blob and hard-links it as manifests/sha256:<hex>. */
  async writeManifest(bytes: Uint8Array, digest: string): Promise<void> {
    await this.writeBlob(digest, bytes.length, bytes);
    const target = this.manifestPath(digest);
    await rm(target, { force: true });
    await link(this.blobPath(digest), target);
  }

  /** Points manifests/<tag> at manifests/sha256:<hex> (relative symlink, replaced atomically). */
  async setTag(tag: string, digest: string): Promise<void> {
    await this.prepare();
    const target = this.manifestPath(tag);
    this.manifestPath(digest);
    const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await symlink(digest, tmp);
      await rename(tmp, target);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** The manifest a tag or digest names, verified; the digest comes from the symlink or the bytes. */
  async readManifest(name: string): Promise<{ bytes: Uint8Array; digest: string }> {
    const file = this.manifestPath(name);
    let digest: string | undefined = isSha256Digest(name) ? name : undefined;
    try {
      if (!digest && (await lstat(file)).isSymbolicLink()) {
        const to = await readlink(file);
        if (isSha256Digest(to)) digest = to;
      }
      const bytes = await readFile(digest ? this.manifestPath(digest) : file);
      const got = sha256Digest(bytes);
      if (digest && got !== digest)
        throw new OciLayoutError(
          `reading manifest ${name} from ${this.label}: content has digest ${got}`,
        );
      return { bytes, digest: got };
    } catch (err) {
      if (err instanceof OciLayoutError) throw err;
      throw new OciLayoutError(
        `reading manifest ${name} from ${this.label}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async readBlob(digest: string): Promise<Uint8Array> {
    return readVerifiedFile(
      this.blobPath(digest),
      digest,
      `reading blob ${digest} from ${this.label}`,
    );
  }

  blobStream(digest: string): Readable {
    return verifiedReadStream(
      this.blobPath(digest),
      digest,
      `reading blob ${digest} from ${this.label}`,
    );
  }
}
