// Scheduled refreshes must do zero work: two builds of an unchanged upstream, with no
// SOURCE_DATE_EPOCH, give the same image digest and the second uploads nothing, because the
// database time and the image's `created` come from the input (README "Reproducible output").
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../support/cli-in-process.js';
import { useDemoUpstream } from '../../support/demo-upstream.js';

const up = useDemoUpstream('zero-work-');

interface PushReport {
  push: { digest: string; blobs: { uploaded: number; bytesUploaded: number } };
}

async function build(store: string, buildId: string): Promise<PushReport> {
  const run = await runCliInProcess(
    [
      '--appregistry-org',
      'demo',
      '--appregistry-endpoint',
      up.appr.url,
      '--from',
      'scratch',
      '--to',
      `${up.reg.host}/demo/catalog:v1`,
      '--insecure',
      '--store',
      store,
      '--build-id',
      buildId,
    ],
    { SOURCE_DATE_EPOCH: undefined, XDG_CACHE_HOME: path.join(up.work, 'cache') },
  );
  expect(run.code, run.stderr).toBe(0);
  const dir = path.join(store, 'builds', buildId);
  expect(readdirSync(dir)).toContain('report.json');
  return JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8'));
}

describe('an unchanged upstream, built twice without SOURCE_DATE_EPOCH', () => {
  it('gives the same digest, and the second build uploads nothing (fresh store each time)', async () => {
    const first = await build(path.join(up.work, 'store-1'), 'first');
    const second = await build(path.join(up.work, 'store-2'), 'second');
    expect(second.push.digest).toBe(first.push.digest);
    expect(first.push.blobs.uploaded).toBeGreaterThan(0);
    expect(second.push.blobs.uploaded).toBe(0);
    expect(second.push.blobs.bytesUploaded).toBe(0);
  });
});
