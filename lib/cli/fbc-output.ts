// `--to-fbc DIR`: the file-based catalog of a build, copied from the store to a local
// directory as `opm migrate` lays it out (`DIR/<package>/catalog.json`, nothing else). Like
// --to-db the result appears whole or not at all: files go to a sibling temporary directory
// that is renamed into place when complete. DIR must be missing or empty, as opm requires.

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fsCause } from '../fs-errors.js';
import { FBC_OUTPUT_CONFIGS } from '../index/fbc-image.js';
import { buildKeys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { OutputWriteError } from './build-command.js';

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/**
 * Writes the build's configs/ files (listed in the store, so this does not depend on the
 * stage result carrying every file) to `dir`; returns how many files were written.
 */
export async function writeFbcDirectory(
  store: Store,
  buildId: string,
  dir: string,
): Promise<number> {
  const what = `writing the file-based catalog to ${dir}`;
  const target = path.resolve(dir);
  if (!(await isEmptyOrMissing(target)))
    throw new OutputWriteError(`${what}: output dir "${dir}" must be empty`);
  const prefix = `${buildKeys(buildId).catalogFile(FBC_OUTPUT_CONFIGS)}/`;
  const configs = (await store.list(prefix)).map((o) => ({
    key: o.key,
    path: o.key.slice(prefix.length),
  }));
  const tmp = `${target}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(tmp, { recursive: true });
    for (const f of configs) {
      const out = path.join(tmp, ...f.path.split('/'));
      await mkdir(path.dirname(out), { recursive: true });
      await writeFile(out, await store.get(f.key));
    }
    await rmdir(target).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await mkdir(path.dirname(target), { recursive: true });
    await rename(tmp, target);
  } catch (cause) {
    await rm(tmp, { recursive: true, force: true });
    throw new OutputWriteError(`${what}: ${fsCause(cause)}`, { cause });
  }
  return configs.length;
}
