// The upstream of a CLI build test in one value: our App Registry server serving
// examples/manifests as org `demo`, a fresh Debian docker-registry, and a work folder, started
// together in beforeAll and stopped together in afterAll.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type AppRegistryServer, startAppRegistryServer } from '../../lib/appregistry/server.js';
import { type RegistryServer, startRegistry } from './registry-server.js';
import { REPO_ROOT } from './shared-corpus.js';

export interface DemoUpstream {
  appr: AppRegistryServer;
  reg: RegistryServer;
  work: string;
}

/** Registers the hooks; the returned object is filled in by beforeAll. */
export function useDemoUpstream(prefix: string): DemoUpstream {
  const up = {} as DemoUpstream;
  beforeAll(async () => {
    up.work = mkdtempSync(path.join(os.tmpdir(), prefix));
    up.appr = await startAppRegistryServer({
      dir: path.join(REPO_ROOT, 'examples', 'manifests'),
      org: 'demo',
    });
    up.reg = await startRegistry();
  });
  afterAll(async () => {
    await up.appr?.stop();
    await up.reg?.stop();
    if (up.work) rmSync(up.work, { recursive: true, force: true });
  });
  return up;
}
