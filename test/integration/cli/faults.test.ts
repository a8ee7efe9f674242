// The fault-injection results stay as they were: builds through proxies that fail 20 % of the
// requests to both the App Registry and the registry (503s and resets), over several seeds,
// finish with the fault-free digest. Each seed pushes to its own tag with a fresh store.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppRegistryServer, startAppRegistryServer } from '../../../lib/appregistry/server.js';
import { runCliInProcess } from '../../support/cli-in-process.js';
import { startFaultProxy } from '../../support/fault-proxy.js';
import { type RegistryServer, startRegistry } from '../../support/registry-server.js';
import { REPO_ROOT } from '../../support/shared-corpus.js';

let appr: AppRegistryServer;
let reg: RegistryServer;
let work: string;
beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'faults-'));
  appr = await startAppRegistryServer({
    dir: path.join(REPO_ROOT, 'examples', 'manifests'),
    org: 'demo',
  });
  reg = await startRegistry();
});
afterAll(async () => {
  await appr?.stop();
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function build(endpoint: string, registryHost: string, tag: string): Promise<string> {
  const store = path.join(work, `store-${tag}`);
  const run = await runCliInProcess(
    [
      '--appregistry-org',
      'demo',
      '--appregistry-endpoint',
      endpoint,
      '--from',
      'scratch',
      '--to',
      `${registryHost}/demo/catalog:${tag}`,
      '--insecure',
      '--store',
      store,
      '--digest-file',
      path.join(work, `${tag}.digest`),
    ],
    { XDG_CACHE_HOME: path.join(work, 'cache') },
  );
  expect(run.code, run.stderr).toBe(0);
  return readFileSync(path.join(work, `${tag}.digest`), 'utf8').trim();
}

describe('20 % faults on the App Registry and the registry', () => {
  it('every seed ends with the fault-free digest', async () => {
    const clean = await build(appr.url, reg.host, 'clean');
    let faults = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const apprProxy = await startFaultProxy(appr.url, { rate: 0.2, seed });
      const regProxy = await startFaultProxy(reg.url, { rate: 0.2, seed: seed + 100 });
      try {
        expect(await build(apprProxy.url, regProxy.host, `seed${seed}`)).toBe(clean);
        faults += apprProxy.faults + regProxy.faults;
      } finally {
        await apprProxy.stop();
        await regProxy.stop();
      }
    }
    // The test must be able to fail: faults were in fact injected.
    expect(faults).toBeGreaterThan(4);
  });
});
