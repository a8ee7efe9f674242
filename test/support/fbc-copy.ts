// Temporary copies of the shared corpus's file-based catalog, edited object by object, for
// diff tests over real catalogs (the copies live in a temp dir; nothing is copied into the
// repository). Files are written back the way `opm migrate` writes them (4-space JSON).
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { splitJsonStream } from '../../lib/index/fbc-read.js';
import { CORPUS } from './shared-corpus.js';

export const DEV_FBC = path.join(CORPUS, 'expected', 'opm-v1.26.5-migrate.packages');

export type FbcObject = Record<string, unknown> & { schema: string; name: string };

export async function copyDevFbc(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fbc-copy-'));
  const dir = path.join(root, 'catalog');
  await cp(DEV_FBC, dir, { recursive: true });
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Rewrites `<dir>/<pkg>/catalog.json` with the edit applied to its list of objects. */
export async function editPackage(
  dir: string,
  pkg: string,
  edit: (objects: FbcObject[]) => FbcObject[],
): Promise<void> {
  const file = path.join(dir, pkg, 'catalog.json');
  const objects = splitJsonStream(await readFile(file, 'utf8')).map(
    (d) => JSON.parse(d) as FbcObject,
  );
  const out = edit(objects);
  await writeFile(file, out.map((o) => `${JSON.stringify(o, null, 4)}\n`).join(''));
}

export function channelOf(
  objects: FbcObject[],
  name: string,
): FbcObject & { entries: Array<Record<string, unknown>> } {
  const c = objects.find((o) => o.schema === 'olm.channel' && o.name === name);
  if (!c) throw new Error(`no channel ${name}`);
  return c as FbcObject & { entries: Array<Record<string, unknown>> };
}
