// Hostile input, class "crash" and "unnamed error": manifests and App Registry listings built
// to blow up a naive decoder (alias bombs, absurd nesting, recursive aliases, names no folder
// or store key can carry, packages whose paths collide). Every case must end in a named
// warning that drops only the bad package (or a named error), never a crash; nothing may be
// written outside the case's work directory and no secret may appear in any output.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackage } from '../../lib/appregistry/pack.js';
import { type AppRegistryServer, startAppRegistryServer } from '../../lib/appregistry/server.js';
import { flattenedBlob } from '../fixtures/appregistry/blobs.js';
import {
  billionLaughsBundleYaml,
  billionLaughsCsv,
  deepBlock,
  deepFlow,
  packageYaml,
  recursiveAlias,
} from '../fixtures/hostile/documents.js';
import { expectNoSecrets, type HostileCase, hostileRoot } from '../support/hostile-harness.js';
import { REPO_ROOT } from '../support/shared-corpus.js';

const TOKEN = 'hostile-token-5f1c2e9a';
const harness = hostileRoot('hostile-decoding');
const enc = (t: string) => new TextEncoder().encode(t);

afterAll(() => harness.cleanup());

/** examples/manifests plus one extra package folder holding `files`. */
function manifestDirWith(c: HostileCase, pkg: string, files: Record<string, string>): string {
  const dir = path.join(c.work, 'manifests');
  cpSync(path.join(REPO_ROOT, 'examples', 'manifests'), dir, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, pkg, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return dir;
}

function report(
  c: HostileCase,
): { warnings: string[]; counts: { packages: number } } & Record<string, unknown> {
  const builds = path.join(c.store, 'builds');
  const [id] = readdirSync(builds);
  return JSON.parse(readFileSync(path.join(builds, id!, 'report.json'), 'utf8'));
}

async function offlineBuild(name: string, pkgFiles: Record<string, string>) {
  const c = harness.newCase(name);
  const dir = manifestDirWith(c, 'bad-operator', pkgFiles);
  const out = path.join(c.work, 'out', 'index.db');
  const run = await c.run(['--manifest-dir', dir, '--to-db', out, '--store', c.store]);
  return { c, run, out };
}

describe('manifests on disk (--manifest-dir)', () => {
  const csv = (body: string) => ({
    'bad-operator.package.yaml': packageYaml('bad-operator', 'bad-operator.v1.0.0'),
    '1.0.0/bad.clusterserviceversion.yaml': body,
  });
  const cases: Array<[string, string]> = [
    ['billion laughs CSV', billionLaughsCsv('bad-operator.v1.0.0')],
    ['flow sequence 20 000 deep', deepFlow(20_000)],
    ['JSON object 20 000 deep', `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`],
    ['block mapping 400 deep', deepBlock(400)],
    ['recursive alias', recursiveAlias],
    [
      'string over 16 MiB',
      `kind: ClusterServiceVersion\nspec: "${'x'.repeat(16 * 1024 * 1024 + 8)}"\n`,
    ],
  ];
  for (const [name, body] of cases) {
    it(`${name}: DocumentLimitError warning drops that package, the others are built`, async () => {
      const { c, run, out } = await offlineBuild(name, csv(body));
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(
        /warning: decoding manifest bad-operator\/1\.0\.0\/bad\.clusterserviceversion\.yaml: .*\(DocumentLimitError; package directory bad-operator is left out\)/,
      );
      expect(existsSync(out)).toBe(true);
      const r = report(c);
      expect(r.warnings.join('\n')).toContain('DocumentLimitError');
      expect((r.index as { counts: { package: number } }).counts.package).toBe(2);
      expectNoSecrets(harness, run, c.work, [{ secret: TOKEN }]);
    });
  }
  it('a bomb in the package.yaml drops the package too', async () => {
    const { c, run } = await offlineBuild('bomb package.yaml', {
      'bad-operator.package.yaml': billionLaughsCsv().replace(
        'kind: ClusterServiceVersion',
        'packageName: bad-operator',
      ),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('DocumentLimitError; package directory bad-operator is left out');
    expect((report(c).index as { counts: { package: number } }).counts.package).toBe(2);
  });
});

describe('App Registry blobs and listings', () => {
  let server: AppRegistryServer;
  const nested = (pkg: string, csvText: string) =>
    packPackage([
      { path: `${pkg}.package.yaml`, data: enc(packageYaml(pkg, `${pkg}.v1.0.0`)) },
      { path: '1.0.0/csv.yaml', data: enc(csvText) },
    ]);
  const hello = (name: string) =>
    packPackage([{ path: `${name}.package.yaml`, data: enc(packageYaml(name, `${name}.v1.0.0`)) }]);
  const BAD_NAMES = [
    'plus+name',
    'ünïcode',
    'x'.repeat(300),
    'back\\slash',
    'space name',
    '-dash-first',
  ];
  beforeAll(async () => {
    server = await startAppRegistryServer({
      dir: path.join(REPO_ROOT, 'examples', 'manifests'),
      org: 'hostile',
      token: TOKEN,
      extraPackages: [
        { repository: 'bomb-flat', blob: flattenedBlob(billionLaughsBundleYaml()) },
        {
          repository: 'bomb-nested',
          blob: nested('bomb-nested', billionLaughsCsv('bomb-nested.v1.0.0')),
        },
        { repository: 'deep-nested', blob: nested('deep-nested', deepFlow(20_000)) },
        ...BAD_NAMES.map((n) => ({ repository: n, blob: hello('named') })),
      ],
    });
  });
  afterAll(() => server?.stop());

  let shared: { c: HostileCase; run: Awaited<ReturnType<HostileCase['run']>> } | undefined;
  const build = async () => {
    if (shared) return shared;
    const c = harness.newCase('appregistry-decoding');
    const run = await c.run([
      '--appregistry-org',
      'hostile',
      '--appregistry-endpoint',
      server.url,
      '--auth-token',
      TOKEN,
      '--to-db',
      path.join(c.work, 'out', 'index.db'),
      '--store',
      c.store,
    ]);
    shared = { c, run };
    return shared;
  };

  it('the build succeeds with the good packages (hello-operator, todo-operator)', async () => {
    const { c, run } = await build();
    expect(run.code, run.stderr).toBe(0);
    expect((report(c).index as { counts: { package: number } }).counts.package).toBe(2);
  });
  it('a billion laughs in a flattened bundle.yaml: AppRegistryBlobLimitError warning', async () => {
    const { run } = await build();
    expect(run.stderr).toMatch(
      /decoding package bomb-flat: .*expands to more than .*AppRegistryBlobLimitError/,
    );
  });
  it('a billion laughs in a nested CSV: DocumentLimitError warning', async () => {
    const { run } = await build();
    expect(run.stderr).toMatch(
      /decoding manifest bomb-nested\/1\.0\.0\/csv\.yaml: .*DocumentLimitError/,
    );
  });
  it('a 20 000-deep document in a blob: DocumentLimitError warning', async () => {
    const { run } = await build();
    expect(run.stderr).toMatch(
      /decoding manifest deep-nested\/1\.0\.0\/csv\.yaml: .*DocumentLimitError/,
    );
  });
  for (const bad of BAD_NAMES) {
    it(`listed name ${JSON.stringify(bad.slice(0, 20))}: AppRegistryPackageNameError warning, package left out`, async () => {
      const { c, run } = await build();
      expect(run.stderr).toContain('(AppRegistryPackageNameError; the package is left out)');
      expect(run.stderr).toContain(JSON.stringify(bad.length > 80 ? `${bad.slice(0, 80)}…` : bad));
      const r = report(c);
      expect(
        r.warnings.some(
          (w) =>
            w.includes('AppRegistryPackageNameError') &&
            w.includes(JSON.stringify(bad.slice(0, 80)).slice(1, -1)),
        ),
      ).toBe(true);
    });
  }
  it('no output names the token; nothing was written outside the work directories', async () => {
    const { c, run } = await build();
    expectNoSecrets(harness, run, c.work, [{ secret: TOKEN }]);
    harness.expectNothingOutside();
  });
  it('a wrong org: AppRegistryEmptyOrgError "org X has no packages at ENDPOINT"', async () => {
    const c = harness.newCase('empty-org');
    const run = await c.run([
      '--appregistry-org',
      'nobody',
      '--appregistry-endpoint',
      server.url,
      '--auth-token',
      TOKEN,
      '--to-db',
      path.join(c.work, 'out', 'index.db'),
      '--store',
      c.store,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`org nobody has no packages at ${server.url}`);
    expect(report(c).failure).toMatchObject({ name: 'AppRegistryEmptyOrgError' });
    expectNoSecrets(harness, run, c.work, [{ secret: TOKEN }]);
  });
});
