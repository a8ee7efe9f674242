// What reading a manifests directory promises its callers, pinned on a tree larger than the
// number of files read at once: files come in walk order (whole and part by part) with their
// own bytes, a link to a file is read under the link's path, links that lead to no file are
// left out, and a file that cannot be read is a ManifestDirError naming the first such file in
// walk order. The reads are bounded by the project's one limiter, so these are the outcomes
// that must not move when how the reads are scheduled does.
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { walkOrderGroups } from '../../../lib/catalog/file-tree.js';
import {
  EmptyManifestDirError,
  lazyManifestDir,
  ManifestDirError,
  readManifestDir,
  readManifestDirParts,
} from '../../../lib/store/manifest-dir.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'manifest-dir-'));
  dirs.push(dir);
  return dir;
}

/** Writes `files` (path relative to `dir` → text) and returns `dir`. */
async function tree(dir: string, files: Record<string, string>): Promise<string> {
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
  return dir;
}

/** A file past readFile's 2 GiB limit that takes no disk space: reading it fails, even as root. */
async function unreadable(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '');
  await truncate(file, 2 ** 31);
}

/** 40 files in one package folder (more than are read at once) and two smaller packages. */
function manyFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < 40; i++) files[`big/f${String(i).padStart(2, '0')}.yaml`] = `big ${i}\n`;
  for (let i = 0; i < 12; i++) {
    files[`small/0.1.${i}/csv.yaml`] = `csv ${i}\n`;
    files[`small/0.1.${i}/crd.yaml`] = `crd ${i}\n`;
  }
  files['small/package.yaml'] = 'packageName: small\n';
  files['z-last/package.yaml'] = 'packageName: z-last\n';
  return files;
}

describe('readManifestDir', () => {
  it('returns every file in walk order with its own bytes', async () => {
    const files = manyFiles();
    const dir = await tree(await tempDir(), files);
    const read = await readManifestDir(dir);
    const paths = read.map((f) => f.path);
    // The walk without reading (lazyManifestDir) is the order of record.
    expect(paths).toEqual((await lazyManifestDir(dir)).files.map((f) => f.path));
    expect([...paths].sort()).toEqual(Object.keys(files).sort());
    expect(paths.indexOf('big/f00.yaml')).toBeLessThan(paths.indexOf('big/f39.yaml'));
    expect(paths.at(-1)).toBe('z-last/package.yaml');
    for (const f of read) expect(new TextDecoder().decode(f.data)).toBe(files[f.path]);
  });

  it('reads a link to a file under its own path and leaves out links that lead to no file', async () => {
    const dir = await tree(await tempDir(), manyFiles());
    await symlink(path.join(dir, 'big', 'f07.yaml'), path.join(dir, 'big', 'f40-link.yaml'));
    await symlink(path.join(dir, 'nowhere.yaml'), path.join(dir, 'big', 'f41-dangling.yaml'));
    await symlink(path.join(dir, 'small'), path.join(dir, 'big', 'f42-folder'));
    const paths = (await readManifestDir(dir)).map((f) => f.path);
    expect(paths).toContain('big/f40-link.yaml');
    expect(paths).not.toContain('big/f41-dangling.yaml');
    expect(paths.some((p) => p.startsWith('big/f42-folder'))).toBe(false);
    expect(paths).toEqual((await lazyManifestDir(dir)).files.map((f) => f.path));
    const link = (await readManifestDir(dir)).find((f) => f.path === 'big/f40-link.yaml');
    expect(new TextDecoder().decode(link?.data)).toBe('big 7\n');
  });

  it('a tree of dangling links only is an EmptyManifestDirError', async () => {
    const dir = await tempDir();
    await symlink(path.join(dir, 'nowhere.yaml'), path.join(dir, 'dangling.yaml'));
    await expect(readManifestDir(dir)).rejects.toThrow(EmptyManifestDirError);
  });

  it('a file that cannot be read is a ManifestDirError naming the first one in walk order', async () => {
    const dir = await tree(await tempDir(), manyFiles());
    await unreadable(path.join(dir, 'big', 'f35-huge.yaml'));
    await unreadable(path.join(dir, 'small', 'huge.yaml'));
    const err = await readManifestDir(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestDirError);
    expect((err as Error).message).toBe(
      `reading manifests directory ${dir}: reading big/f35-huge.yaml: File size (2147483648) is greater than 2 GiB`,
    );
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ERR_FS_FILE_TOO_LARGE');
  });
});

describe('readManifestDirParts', () => {
  it('yields the files in walk order, part by part, with their own bytes', async () => {
    const files = manyFiles();
    const dir = await tree(await tempDir(), files);
    await symlink(path.join(dir, 'nowhere.yaml'), path.join(dir, 'big', 'f41-dangling.yaml'));
    const parts = [];
    for await (const part of readManifestDirParts(dir)) parts.push(part);
    const expected = walkOrderGroups((await lazyManifestDir(dir)).files.map((f) => f.path));
    expect(parts.map((p) => p.map((f) => f.path))).toEqual(expected);
    expect(parts[0]?.length).toBe(40);
    for (const f of parts.flat()) expect(new TextDecoder().decode(f.data)).toBe(files[f.path]);
  });

  it('a file that cannot be read is the same ManifestDirError', async () => {
    const dir = await tree(await tempDir(), manyFiles());
    await unreadable(path.join(dir, 'small', '0.1.3', 'huge.yaml'));
    const read = async () => {
      for await (const _ of readManifestDirParts(dir));
    };
    const err = await read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestDirError);
    expect((err as Error).message).toBe(
      `reading manifests directory ${dir}: reading small/0.1.3/huge.yaml: File size (2147483648) is greater than 2 GiB`,
    );
  });
});
