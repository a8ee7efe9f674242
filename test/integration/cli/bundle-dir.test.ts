// The bug this closes: `catalog-build --manifest-dir` pointed at a bundle-format folder used to
// print "0 packages, 0 channels, 1 bundles" and exit 0 with an empty catalog. Now the folder
// is recognised and loaded, the format found is said, and a tree from which no package can be
// loaded is a named error (exit 1), never a silent empty index.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/run-cli.js';
import { crd, csv } from '../../unit/catalog/manifest-builders.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'cli-bundle-dir-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(root: string, files: Record<string, unknown>): string {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, yaml.dump(content));
  }
  return root;
}

function bundleFolder(root: string, crdApiVersion: string): string {
  return write(root, {
    'demo/0.1.0/manifests/demo.clusterserviceversion.yaml': csv('demo.v0.1.0', {
      version: '0.1.0',
      owned: [{ name: 'widgets.demo.io', version: 'v1', kind: 'Widget' }],
    }),
    'demo/0.1.0/manifests/widgets.crd.yaml': crd(
      'widgets',
      'demo.io',
      'Widget',
      ['v1'],
      crdApiVersion,
    ),
    'demo/0.1.0/metadata/annotations.yaml': {
      annotations: {
        'operators.operatorframework.io.bundle.package.v1': 'demo',
        'operators.operatorframework.io.bundle.channels.v1': 'stable',
      },
    },
  });
}

describe('catalog-build --manifest-dir with bundle-format folders', () => {
  it('loads the bundle and says which format it found', async () => {
    const dir = bundleFolder(path.join(tmp, 'ok'), 'apiextensions.k8s.io/v1beta1');
    const run = await runCli([
      '--build-id',
      'bundle-dir-ok',
      '--manifest-dir',
      dir,
      '--to-db',
      path.join(tmp, 'ok.db'),
      '--store',
      path.join(tmp, 'store-ok'),
    ]);
    expect(run.stderr).toContain('found 1 bundle-format bundle in 1 package folder');
    expect(run.stderr).toMatch(/index: 1 packages, 1 channels, 1 bundles/);
    expect(run.code).toBe(0);
    const report = readFileSync(path.join(tmp, 'ok.report.md'), 'utf8');
    expect(report).toContain('## Bundles');
    expect(report).toContain('| demo/0.1.0 | demo.v0.1.0 | demo | loaded (stable) |');
  }, 60_000);

  it('no loadable package is a named error, not an empty catalog', async () => {
    // sqlite-v7 keeps operator-registry v1.8.0's rules: a CRD apiextensions v1 bundle is refused.
    const dir = bundleFolder(path.join(tmp, 'v1crd'), 'apiextensions.k8s.io/v1');
    const run = await runCli([
      '--manifest-dir',
      dir,
      '--to-db',
      path.join(tmp, 'bad.db'),
      '--store',
      path.join(tmp, 'store-bad'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no package could be loaded from');
    expect(run.stderr).toContain('found 1 bundle-format bundle in 1 package folder');
    expect(run.stderr).toContain(
      'no kind "CustomResourceDefinition" is registered for version "apiextensions.k8s.io/v1"',
    );
  }, 60_000);
});
