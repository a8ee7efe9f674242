// The store contract on the local directory store (the CLI's store).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { storeContract } from './store-contract.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

storeContract('LocalDirStore', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'store-'));
  dirs.push(dir);
  return new LocalDirStore(dir);
});
