// oc's --manifest-dir with --appregistry-org: where the downloaded manifests are unpacked, so
// people can read exactly what went into the index. Paths come from the safe decoder (no '..',
// no absolute paths, no links), and are joined below the directory only.
//
// Streamed, so an org of thousands of packages unpacks in the memory of a few packages: each
// blob is read from the store, decoded once (the decoder's caps apply unchanged), its files
// written, and then dropped; only the paths (names, not contents) are kept, to check every
// package's paths against the others'. A file of one package where another has a directory is
// a named error naming both, never a raw EEXIST half-way.
//
// Files go to a hidden sibling staging directory first, so a failure (a clash, a full disk)
// leaves nothing that looks complete: the staging directory is removed and DIR is as before.
// A DIR that does not exist yet appears in one rename; into an existing DIR the staged files
// are moved one by one after checking that each fits (the same paths are replaced, as before;
// nothing else in DIR is touched). Where two packages write the same file, the later one in
// the listing wins, as when they were written in order.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodePackageBlob } from '../appregistry/decode.js';
import { CatalogError } from '../errors.js';
import { fsCause } from '../fs-errors.js';
import { mapAll } from '../http/limiter.js';
import type { DecodeLimitsRequest, FetchedPackage } from '../stages/types.js';
import type { Store } from '../store/store.js';

/** The downloaded manifests cannot be unpacked to --manifest-dir (collision, disk, access). */
export class ManifestUnpackError extends CatalogError {
  override name = 'ManifestUnpackError';
}

/**
 * Packages unpacked at once: enough to overlap one package's reads and writes with another's
 * decoding on a small machine, few enough that memory stays that of a handful of blobs.
 */
export const UNPACK_CONCURRENCY = 4;

/** Unpacks every package's files below `dir`; returns how many files were placed there. */
export async function unpackPackages(
  store: Store,
  packages: readonly FetchedPackage[],
  dir: string,
  limits?: DecodeLimitsRequest,
): Promise<number> {
  const root = path.resolve(dir);
  const what = `unpacking the downloaded manifests to ${dir}`;
  const staging = path.join(
    path.dirname(root),
    `.${path.basename(root)}.tmp-${randomBytes(6).toString('hex')}`,
  );
  const fsError = (rel: string, verb: string, cause: unknown) =>
    new ManifestUnpackError(`${what}: ${verb} ${rel}: ${fsCause(cause)}`, { cause });

  // Paths only (relative, '/'-separated): which package (listing index) owns each file and
  // which created each directory, and the pending write of each file.
  const fileOwner = new Map<string, number>();
  const dirOwner = new Map<string, number>();
  const writes = new Map<string, Promise<void>>();
  const madeDirs = new Set<string>();
  let failed = false;

  const ensureDir = async (rel: string) => {
    if (madeDirs.has(rel)) return;
    await mkdir(path.join(staging, ...rel.split('/')), { recursive: true });
    madeDirs.add(rel);
  };

  await mapAll(packages, UNPACK_CONCURRENCY, async (p, index) => {
    if (failed) return; // a package already failed: the rest is thrown away anyway
    try {
      const decoded = decodePackageBlob(await store.get(p.key), p.name, limits);
      // Claimed synchronously, so no other package's claims interleave with this one's.
      const mine: {
        rel: string;
        data: Uint8Array;
        after?: Promise<void>;
        write?: Promise<void>;
      }[] = [];
      for (const file of decoded.files) {
        const target = path.resolve(root, ...file.path.split('/'));
        if (!target.startsWith(root + path.sep)) continue;
        const clash = (other: number | undefined, kind: string) => {
          if (other !== undefined && other !== index)
            throw new ManifestUnpackError(
              `${what}: ${file.path} of package ${p.name} is ${kind} of package ${packages[other]!.name}`,
            );
        };
        clash(dirOwner.get(file.path), 'a directory');
        const segs = file.path.split('/');
        for (let i = 1; i < segs.length; i++) {
          const parent = segs.slice(0, i).join('/');
          clash(fileOwner.get(parent), `below the file ${parent}`);
          if (!dirOwner.has(parent)) dirOwner.set(parent, index);
        }
        const owner = fileOwner.get(file.path);
        if (owner !== undefined && owner > index) continue; // a later package's copy wins
        fileOwner.set(file.path, index);
        mine.push({ rel: file.path, data: file.data, after: writes.get(file.path) });
      }
      for (const f of mine) {
        // An earlier package's write of the same file finishes first, so this one lands last.
        const write = (async () => {
          await f.after;
          try {
            await ensureDir(path.posix.dirname(f.rel));
            await writeFile(path.join(staging, ...f.rel.split('/')), f.data);
          } catch (cause) {
            throw fsError(f.rel, 'writing', cause);
          }
        })();
        writes.set(f.rel, write);
        // Only writes in flight stay listed: the map holds paths of a few packages, not all.
        void write.then(
          () => writes.get(f.rel) === write && writes.delete(f.rel),
          () => {},
        );
        f.write = write;
      }
      await Promise.all(mine.map((f) => f.write));
    } catch (err) {
      failed = true;
      throw err;
    }
  }).catch(async (err) => {
    await Promise.allSettled(writes.values());
    await rm(staging, { recursive: true, force: true });
    throw err;
  });
  if (fileOwner.size === 0) return 0;

  try {
    await placeStaged(staging, root, [...dirOwner.keys()], [...fileOwner.keys()], what);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return fileOwner.size;
}

/**
 * Moves the staged tree to `root`: in one rename when `root` does not exist, otherwise file by
 * file after checking that every staged directory is a directory (not a link) there and every
 * staged file is not a directory there, so nothing moves when something would not fit.
 */
async function placeStaged(
  staging: string,
  root: string,
  dirs: readonly string[],
  files: readonly string[],
  what: string,
): Promise<void> {
  const fail = (rel: string, cause: unknown) =>
    new ManifestUnpackError(`${what}: placing ${rel || '.'}: ${fsCause(cause)}`, { cause });
  const kindOf = async (file: string, follow = false) => {
    try {
      const s = follow ? await stat(file) : await lstat(file);
      return s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'link' : 'file';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw fail(path.relative(root, file), err);
    }
  };
  if ((await kindOf(root)) === 'missing') {
    try {
      await mkdir(path.dirname(root), { recursive: true });
      await rename(staging, root);
      return;
    } catch (cause) {
      // Someone created it meanwhile (or the parent cannot be made): merge, or say why not.
      if (!['EEXIST', 'ENOTEMPTY'].includes((cause as NodeJS.ErrnoException).code ?? ''))
        throw fail('', cause);
    }
  }
  if ((await kindOf(root, true)) !== 'dir')
    throw new ManifestUnpackError(`${what}: it exists and is not a directory`);
  const target = (rel: string) => path.join(root, ...rel.split('/'));
  for (const rel of dirs) {
    const kind = await kindOf(target(rel));
    if (kind === 'file' || kind === 'link')
      throw new ManifestUnpackError(
        `${what}: ${rel} must be a directory, but ${kind === 'link' ? 'a symbolic link' : 'a file'} of that name exists`,
      );
  }
  for (const rel of files) {
    if ((await kindOf(target(rel))) === 'dir')
      throw new ManifestUnpackError(
        `${what}: ${rel} must be a file, but a directory of that name exists`,
      );
  }
  for (const rel of dirs) {
    try {
      await mkdir(target(rel), { recursive: true });
    } catch (cause) {
      throw fail(rel, cause);
    }
  }
  for (const rel of files) {
    try {
      await rename(path.join(staging, ...rel.split('/')), target(rel));
    } catch (cause) {
      throw fail(rel, cause);
    }
  }
}
