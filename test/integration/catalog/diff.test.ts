// `catalog-build diff` and `graph` over real catalogs: the dev corpus's FBC (as opm v1.26.5
// migrated it) against itself and against temp copies with one change each, and the graph
// against render-graph's own output. Every case checks the exact text, JSON and exit code.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelOf, copyDevFbc, DEV_FBC, editPackage } from '../../support/fbc-copy.js';
import { runCli } from '../../support/run-cli.js';
import { CORPUS, CORPUS_SKIP_REASON, HAVE_CORPUS } from '../../support/shared-corpus.js';

const EXPECTED_MMD = path.join(CORPUS, 'expected', 'opm-v1.26.5-render-graph.packages.mmd');
const cleanups: Array<() => Promise<void>> = [];

async function variant(edit: (dir: string) => Promise<void>): Promise<string> {
  const copy = await copyDevFbc();
  cleanups.push(copy.cleanup);
  await edit(copy.dir);
  return copy.dir;
}

async function diff(newDir: string) {
  const text = await runCli(['diff', DEV_FBC, newDir]);
  const json = await runCli(['diff', DEV_FBC, newDir, '--output', 'json']);
  const header = `--- FBC directory ${DEV_FBC}\n+++ FBC directory ${newDir}\n`;
  expect(text.stdout.startsWith(header)).toBe(true);
  expect(json.code).toBe(text.code);
  return { code: text.code, body: text.stdout.slice(header.length), json: JSON.parse(json.stdout) };
}

const AKKA = 'akka-cluster-operator';
const NO_CHANGE = {
  packagesAdded: 0,
  packagesRemoved: 0,
  packagesChanged: 0,
  defaultChannelsChanged: 0,
  channelsAdded: 0,
  channelsRemoved: 0,
  headsMoved: 0,
  bundlesAdded: 0,
  bundlesRemoved: 0,
  edgesAdded: 0,
  edgesRemoved: 0,
  pathsBroken: 0,
};
const unchangedPackage = {
  status: 'changed',
  defaultChannel: null,
  channelsAdded: [],
  channelsRemoved: [],
  headsMoved: [],
  bundlesAdded: [],
  bundlesRemoved: [],
  edgesAdded: [],
  edgesRemoved: [],
  pathsBroken: [],
};

describe.skipIf(!HAVE_CORPUS)('catalog-build graph and diff on the dev corpus', () => {
  if (!HAVE_CORPUS) console.warn(CORPUS_SKIP_REASON);
  let removed: string;
  let headMoved: string;
  let defaultChanged: string;
  let broken: string;

  beforeAll(async () => {
    removed = await variant((dir) => rm(path.join(dir, 'etcd'), { recursive: true }));
    headMoved = await variant((dir) =>
      editPackage(dir, AKKA, (objects) => {
        channelOf(objects, 'alpha').entries.push({
          name: `${AKKA}.v1.0.1`,
          replaces: `${AKKA}.v1.0.0`,
        });
        objects.push({
          schema: 'olm.bundle',
          name: `${AKKA}.v1.0.1`,
          package: AKKA,
          image: '',
          properties: [{ type: 'olm.package', value: { packageName: AKKA, version: '1.0.1' } }],
        });
        return objects;
      }),
    );
    defaultChanged = await variant((dir) =>
      editPackage(dir, 'apicast-community-operator', (objects) => {
        objects[0]!.defaultChannel = 'alpha';
        return objects;
      }),
    );
    // v0.2.0 dropped from the middle of the chain: v0.2.3 still replaces it, so a cluster on
    // v0.2.0 still upgrades, but one on v0.0.1 (replaced by v0.2.0) is stranded.
    broken = await variant((dir) =>
      editPackage(dir, AKKA, (objects) => {
        const alpha = channelOf(objects, 'alpha');
        alpha.entries = alpha.entries.filter((e) => e.name !== `${AKKA}.v0.2.0`);
        return objects.filter((o) => o.name !== `${AKKA}.v0.2.0`);
      }),
    );
  });
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('graph is byte-identical to opm alpha render-graph v1.26.5', async () => {
    const run = await runCli(['graph', DEV_FBC]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(await readFile(EXPECTED_MMD, 'utf8'));
  });

  it('graph --package keeps only that package', async () => {
    const run = await runCli(['graph', DEV_FBC, '--package', AKKA]);
    const expected = (await readFile(EXPECTED_MMD, 'utf8')).split('\n');
    const start = expected.indexOf(`  %% package "${AKKA}"`);
    const end = expected.indexOf('  end', start);
    expect(run.stdout).toBe(`graph LR\n${expected.slice(start, end + 1).join('\n')}\n`);
  });

  it('the catalog against itself: no changes, exit 0', async () => {
    const d = await diff(DEV_FBC);
    expect(d.code).toBe(0);
    expect(d.body).toBe('No changes.\n');
    expect(d.json).toMatchObject({
      schemaVersion: 1,
      empty: true,
      summary: NO_CHANGE,
      summaryText: 'no changes',
      packages: [],
    });
  });

  it('one package removed', async () => {
    const d = await diff(removed);
    expect(d.code).toBe(3);
    expect(d.body).toBe(
      '- package etcd (2 channels, 5 bundles)\nSummary: -1 package, -5 bundles, 0 heads moved, 0 paths broken\n',
    );
    expect(d.json.summary).toEqual({
      ...NO_CHANGE,
      packagesRemoved: 1,
      channelsRemoved: 2,
      bundlesRemoved: 5,
    });
    expect(d.json.packagesRemoved).toEqual(['etcd']);
    expect(d.json.packages).toHaveLength(1);
    expect(d.json.packages[0]).toMatchObject({
      name: 'etcd',
      status: 'removed',
      channelsRemoved: ['clusterwide-alpha', 'singlenamespace-alpha'],
      edgesRemoved: [],
    });
    expect(d.json.packages[0].bundlesRemoved).toHaveLength(5);
  });

  it('one head moved: a new CSV appended to a channel', async () => {
    const d = await diff(headMoved);
    expect(d.code).toBe(3);
    expect(d.body).toBe(
      [
        `~ package ${AKKA}`,
        `    head of alpha: ${AKKA}.v1.0.0 -> ${AKKA}.v1.0.1`,
        `    + bundle ${AKKA}.v1.0.1`,
        `    + edge alpha: ${AKKA}.v1.0.0 -- replace --> ${AKKA}.v1.0.1`,
        'Summary: +1 bundle, 1 head moved, 0 paths broken',
        '',
      ].join('\n'),
    );
    expect(d.json.summary).toEqual({
      ...NO_CHANGE,
      packagesChanged: 1,
      headsMoved: 1,
      bundlesAdded: 1,
      edgesAdded: 1,
    });
    expect(d.json.packages).toEqual([
      {
        ...unchangedPackage,
        name: AKKA,
        headsMoved: [{ channel: 'alpha', old: `${AKKA}.v1.0.0`, new: `${AKKA}.v1.0.1` }],
        bundlesAdded: [`${AKKA}.v1.0.1`],
        edgesAdded: [
          { channel: 'alpha', from: `${AKKA}.v1.0.0`, to: `${AKKA}.v1.0.1`, kind: 'replace' },
        ],
      },
    ]);
  });

  it('--output mermaid draws the changed package with the new head and edge marked added', async () => {
    const run = await runCli(['diff', DEV_FBC, headMoved, '--output', 'mermaid']);
    expect(run.code).toBe(3);
    const id = (b: string) => `${AKKA}-alpha-${AKKA}.${b}`;
    expect(run.stdout).toBe(
      [
        'graph LR',
        '  classDef added fill:#dafbe1,stroke:#1a7f37,stroke-width:2px',
        '  classDef removed fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4 3',
        `  %% package "${AKKA}"`,
        `  subgraph "${AKKA}"`,
        `    subgraph ${AKKA}-alpha["alpha"]`,
        `      ${id('v0.0.1')}["${AKKA}.v0.0.1"]`,
        `      ${id('v0.2.0')}["${AKKA}.v0.2.0"]`,
        `      ${id('v0.2.3')}["${AKKA}.v0.2.3"]`,
        `      ${id('v1.0.0')}["${AKKA}.v1.0.0"]`,
        `      ${id('v1.0.1')}["${AKKA}.v1.0.1 (head)"]:::added`,
        `      ${id('v0.0.1')}-- replace --> ${id('v0.2.0')}`,
        `      ${id('v0.2.0')}-- replace --> ${id('v0.2.3')}`,
        `      ${id('v0.2.3')}-- replace --> ${id('v1.0.0')}`,
        `      ${id('v1.0.0')}-- replace --> ${id('v1.0.1')}`,
        '    end',
        '  end',
        '  linkStyle 3 stroke:#1a7f37,stroke-width:3px',
        '',
      ].join('\n'),
    );
  });

  it('one default channel changed', async () => {
    const d = await diff(defaultChanged);
    expect(d.code).toBe(3);
    expect(d.body).toBe(
      '~ package apicast-community-operator\n    default channel: stable -> alpha\nSummary: 1 default channel changed, +0 bundles, 0 heads moved, 0 paths broken\n',
    );
    expect(d.json.summary).toEqual({ ...NO_CHANGE, packagesChanged: 1, defaultChannelsChanged: 1 });
    expect(d.json.packages).toEqual([
      {
        ...unchangedPackage,
        name: 'apicast-community-operator',
        defaultChannel: { old: 'stable', new: 'alpha' },
      },
    ]);
  });

  it('one upgrade path broken: exit 4', async () => {
    const d = await diff(broken);
    expect(d.code).toBe(4);
    expect(d.body).toBe(
      [
        `~ package ${AKKA}`,
        `    - bundle ${AKKA}.v0.2.0`,
        `    - edge alpha: ${AKKA}.v0.0.1 -- replace --> ${AKKA}.v0.2.0`,
        `    ! path broken in alpha: ${AKKA}.v0.0.1 can no longer reach the head ${AKKA}.v1.0.0`,
        'Summary: -1 bundle, 0 heads moved, 1 path broken',
        '',
      ].join('\n'),
    );
    expect(d.json.summary).toEqual({
      ...NO_CHANGE,
      packagesChanged: 1,
      bundlesRemoved: 1,
      edgesRemoved: 1,
      pathsBroken: 1,
    });
    expect(d.json.packages).toEqual([
      {
        ...unchangedPackage,
        name: AKKA,
        bundlesRemoved: [`${AKKA}.v0.2.0`],
        edgesRemoved: [
          { channel: 'alpha', from: `${AKKA}.v0.0.1`, to: `${AKKA}.v0.2.0`, kind: 'replace' },
        ],
        pathsBroken: [
          {
            channel: 'alpha',
            bundle: `${AKKA}.v0.0.1`,
            oldHead: `${AKKA}.v1.0.0`,
            newHead: `${AKKA}.v1.0.0`,
            bundleRemoved: false,
          },
        ],
      },
    ]);
  });

  it('a schema-7 DB of the same manifests gives the same graph (but buildv2-operator, which v1.8.0 rejects)', async () => {
    const dir = await variant(async () => {});
    const db = path.join(dir, '..', 'dev.db');
    const built = await runCli([
      '--manifest-dir',
      path.join(CORPUS, 'packages'),
      '--to-db',
      db,
      '--store',
      path.join(dir, '..', 'store'),
      '-q',
    ]);
    expect(built.code).toBe(0);
    const fromDb = await runCli(['graph', db]);
    const withoutBuildv2 = (await readFile(EXPECTED_MMD, 'utf8')).replace(
      / {2}%% package "buildv2-operator"\n[\s\S]*?\n {2}end\n/,
      '',
    );
    expect(fromDb.stdout).toBe(withoutBuildv2);
    const d = await runCli(['diff', db, DEV_FBC]);
    expect(d.code).toBe(3);
    expect(d.stdout).toContain('(SQLite index, schema 7)');
    expect(d.stdout.split('\n').slice(2).join('\n')).toBe(
      '+ package buildv2-operator (1 channel, 2 bundles)\nSummary: +1 package, +2 bundles, 0 heads moved, 0 paths broken\n',
    );
  });

  it('a schema-13 DB of the same manifests: the same graph bytes, no difference with the FBC', async () => {
    const dir = await variant(async () => {});
    const db = path.join(dir, '..', 'dev13.db');
    const built = await runCli([
      '--manifest-dir',
      path.join(CORPUS, 'packages'),
      '--index-format',
      'sqlite',
      '--to-db',
      db,
      '--store',
      path.join(dir, '..', 'store'),
      '-q',
    ]);
    expect(built.code, built.stderr).toBe(0);
    expect((await runCli(['graph', db])).stdout).toBe(await readFile(EXPECTED_MMD, 'utf8'));
    const d = await runCli(['diff', db, DEV_FBC]);
    expect(d.stdout).toBe(
      `--- ${db} (SQLite index, schema 13)\n+++ FBC directory ${DEV_FBC}\nNo changes.\n`,
    );
    expect(d.code).toBe(0);
  });

  it('an FBC catalog image (oci: layout) of the dev corpus: render-graph bytes, no difference', async () => {
    const dir = await variant(async () => {});
    const image = `oci:${path.join(dir, '..', 'fbc-image')}:v1`;
    const built = await runCli([
      '--manifest-dir',
      path.join(CORPUS, 'packages'),
      '--index-format',
      'fbc',
      '--from',
      'scratch',
      '--to',
      image,
      '--store',
      path.join(dir, '..', 'store'),
      '-q',
    ]);
    expect(built.code, built.stderr).toBe(0);
    expect((await runCli(['graph', image])).stdout).toBe(await readFile(EXPECTED_MMD, 'utf8'));
    const d = await runCli(['diff', DEV_FBC, image]);
    expect(d.stdout).toBe(`--- FBC directory ${DEV_FBC}\n+++ image ${image} (FBC)\nNo changes.\n`);
    expect(d.code).toBe(0);
  });

  it('a usage error exits 2', async () => {
    const run = await runCli(['diff', DEV_FBC]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('OLD and NEW catalogs are needed');
  });
});
