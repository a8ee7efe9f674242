// Hostile input inside bundle-format folders (`<pkg>/<version>/manifests` +
// `metadata/annotations.yaml`, as a community catalog checkout holds them): a manifest or an
// annotations file over a decoding limit (alias bomb, absurd nesting) must drop that bundle
// folder with a named DocumentLimitError warning while every other bundle is built — the
// same rule as for package-manifest directories — never crash or fail the build.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { billionLaughsCsv, deepBlock, deepFlow } from '../fixtures/hostile/documents.js';
import { expectNoSecrets, type HostileCase, hostileRoot } from '../support/hostile-harness.js';
import { crd, csv } from '../unit/catalog/manifest-builders.js';

const harness = hostileRoot('hostile-bundle-folders');
afterAll(() => {
  harness.expectNothingOutside();
  harness.cleanup();
});

const BUNDLES: Array<[pkg: string, version: string, replaces?: string]> = [
  ['demo', '0.1.0'],
  ['demo', '0.2.0', 'demo.v0.1.0'],
  ['other', '1.0.0'],
];

/** Three good bundle folders, then `bad` (paths relative to the root) written over them. */
function bundleTree(c: HostileCase, bad: Record<string, string>): string {
  const root = path.join(c.work, 'operators');
  const write = (rel: string, text: string) => {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  };
  for (const [pkg, version, replaces] of BUNDLES) {
    const dir = `${pkg}/${version}`;
    write(
      `${dir}/manifests/${pkg}.clusterserviceversion.yaml`,
      yaml.dump(
        csv(`${pkg}.v${version}`, {
          version,
          ...(replaces ? { replaces } : {}),
          owned: [{ name: `widgets.${pkg}.io`, version: 'v1', kind: 'Widget' }],
        }),
      ),
    );
    write(
      `${dir}/manifests/widgets.crd.yaml`,
      yaml.dump(crd('widgets', `${pkg}.io`, 'Widget', ['v1'], 'apiextensions.k8s.io/v1beta1')),
    );
    write(
      `${dir}/metadata/annotations.yaml`,
      yaml.dump({
        annotations: {
          'operators.operatorframework.io.bundle.package.v1': pkg,
          'operators.operatorframework.io.bundle.channels.v1': 'stable',
          'operators.operatorframework.io.bundle.channel.default.v1': 'stable',
        },
      }),
    );
  }
  for (const [rel, text] of Object.entries(bad)) write(rel, text);
  return root;
}

function report(c: HostileCase): {
  warnings: string[];
  index: { counts: { package: number; bundle?: number } };
} {
  const builds = path.join(c.store, 'builds');
  const [id] = readdirSync(builds);
  return JSON.parse(readFileSync(path.join(builds, id!, 'report.json'), 'utf8'));
}

const CASES: Array<[string, string, string]> = [
  [
    'billion laughs CSV',
    'demo/0.2.0/manifests/demo.clusterserviceversion.yaml',
    billionLaughsCsv('demo.v0.2.0'),
  ],
  ['flow sequence 20 000 deep in a CRD', 'demo/0.2.0/manifests/widgets.crd.yaml', deepFlow(20_000)],
  ['block mapping 400 deep in a CRD', 'demo/0.2.0/manifests/widgets.crd.yaml', deepBlock(400)],
  [
    'billion laughs annotations.yaml',
    'demo/0.2.0/metadata/annotations.yaml',
    billionLaughsCsv().replace('kind: ClusterServiceVersion', 'annotations: {}'),
  ],
];

describe('decoding limits inside bundle-format folders', () => {
  for (const [name, rel, text] of CASES) {
    it(`${name}: DocumentLimitError warning drops that bundle, the others are built`, async () => {
      const c = harness.newCase(name);
      const dir = bundleTree(c, { [rel]: text });
      const out = path.join(c.work, 'out', 'index.db');
      const run = await c.run(['--manifest-dir', dir, '--to-db', out, '--store', c.store]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(`warning: decoding manifest ${rel}: `);
      expect(run.stderr).toContain('(DocumentLimitError; bundle demo/0.2.0 is left out)');
      // Named once, not also as an upstream "error building database" problem.
      expect(run.stderr).not.toContain('error building database');
      expect(existsSync(out)).toBe(true);
      const r = report(c);
      expect(r.warnings.join('\n')).toContain('DocumentLimitError');
      // demo (0.1.0 only) and other are both in the index.
      expect(r.index.counts.package).toBe(2);
      if (r.index.counts.bundle !== undefined) expect(r.index.counts.bundle).toBe(2);
      expectNoSecrets(harness, run, c.work, []);
    });
  }
});
