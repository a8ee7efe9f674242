// The fault-injection results stay as they were: builds through proxies that fail 20 % of the
// requests to both the App Registry and the registry (503s and resets), over several seeds,
// finish with the fault-free digest. Each seed pushes to its own tag with a fresh store.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../support/cli-in-process.js';
import { useDemoUpstream } from '../../support/demo-upstream.js';
import { startFaultProxy } from '../../support/fault-proxy.js';

const up = useDemoUpstream('faults-');

async function build(endpoint: string, registryHost: string, tag: string): Promise<string> {
  const store = path.join(up.work, `store-${tag}`);
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
      path.join(up.work, `${tag}.digest`),
    ],
    { XDG_CACHE_HOME: path.join(up.work, 'cache') },
  );
  expect(run.code, run.stderr).toBe(0);
  return readFileSync(path.join(up.work, `${tag}.digest`), 'utf8').trim();
}

describe('20 % faults on the App Registry and the registry', () => {
  it('every seed ends with the fault-free digest', async () => {
    const clean = await build(up.appr.url, up.reg.host, 'clean');
    let faults = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const apprProxy = await startFaultProxy(up.appr.url, { rate: 0.2, seed });
      const regProxy = await startFaultProxy(up.reg.url, { rate: 0.2, seed: seed + 100 });
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
