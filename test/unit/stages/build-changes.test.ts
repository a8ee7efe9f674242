// Each build is compared with the previous successful build of the same target: real
// index builds of the sample manifests in a local store, the report stage run after each,
// and a real HTTP receiver for the webhook. Checks the diff in report.json, the table and
// graph in report.md, the webhook's one-line summary, and that a re-run compares alike.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex } from '../../../lib/stages/build-index.js';
import { saveBuildRequest } from '../../../lib/stages/build-request.js';
import { type BuildReport, report } from '../../../lib/stages/report.js';
import { renderReportPage } from '../../../lib/stages/report-page.js';
import { runRecorded } from '../../../lib/stages/stage-results.js';
import { silentLogger } from '../../../lib/stages/types.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { getJson } from '../../../lib/store/store.js';
import { REPO_ROOT } from '../../support/shared-corpus.js';

let dir: string;
let manifests: string;
let store: LocalDirStore;
let receiver: Server;
let webhookUrl: string;
const received: BuildReport[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'build-changes-'));
  manifests = path.join(dir, 'manifests');
  await cp(path.join(REPO_ROOT, 'examples', 'manifests'), manifests, { recursive: true });
  store = new LocalDirStore(path.join(dir, 'store'));
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await new Promise((r) => receiver.close(r));
  await rm(dir, { recursive: true, force: true });
});

async function build(
  buildId: string,
  to = 'oci:out/catalog:v1',
  indexFormat?: 'fbc',
): Promise<BuildReport> {
  const deps = { store, log: silentLogger };
  const format = indexFormat ? { indexFormat } : {};
  await saveBuildRequest(store, {
    buildId,
    manifestDir: manifests,
    to,
    webhook: { url: webhookUrl },
    ...format,
  });
  await runRecorded(store, buildId, 'build-index', () =>
    buildIndex({ buildId, manifestDir: manifests, ...format }, deps),
  );
  await report({ buildId, outcome: 'succeeded' }, deps);
  return getJson<BuildReport>(store, `builds/${buildId}/report.json`);
}

const md = async (id: string) =>
  new TextDecoder().decode(await store.get(`builds/${id}/report.md`));

describe('build changes in the report', () => {
  it('the first build of a target has nothing to compare with', async () => {
    const r = await build('c1');
    expect(r.previousBuildId).toBeNull();
    expect(r.changes).toBeNull();
    expect(r.changeSummary).toBe('first successful build of this target');
    expect(received.at(-1)?.changeSummary).toBe('first successful build of this target');
  });

  it('the same manifests again: an empty diff that says so', async () => {
    const r = await build('c2');
    expect(r.previousBuildId).toBe('c1');
    expect(r.changes).toMatchObject({
      empty: true,
      summaryText: 'no changes',
      packages: [],
      graphs: [],
    });
    expect(r.changeSummary).toBe('no changes');
    expect(await md('c2')).toContain(
      '## Changes since build c1\n\nNo changes: the catalog is the same as in the previous build.\n',
    );
    expect(received.at(-1)?.changeSummary).toBe('no changes');
  });

  it('a package removed upstream: the diff, the table, the marked graph and the webhook summary', async () => {
    await rm(path.join(manifests, 'todo-operator'), { recursive: true });
    const r = await build('c3');
    expect(r.previousBuildId).toBe('c2');
    expect(r.changes?.packagesRemoved).toEqual(['todo-operator']);
    expect(r.changes?.summary).toMatchObject({
      packagesRemoved: 1,
      bundlesRemoved: 2,
      pathsBroken: 0,
    });
    expect(r.changeSummary).toBe('-1 package, -2 bundles, 0 heads moved, 0 paths broken');
    expect(r.changes?.graphs.map((g) => g.package)).toEqual(['todo-operator']);
    expect(r.changes?.graphs[0]?.mermaid).toContain(
      'todo-operator-alpha-todo-operator.v1.1.0["todo-operator.v1.1.0 (head)"]:::removed',
    );
    const text = await md('c3');
    expect(text).toContain('- Changes: -1 package, -2 bundles, 0 heads moved, 0 paths broken');
    expect(text).toContain('| todo-operator | removed |');
    expect(text).toContain('### todo-operator\n\n```mermaid\ngraph LR\n');
    expect(received.at(-1)?.changeSummary).toBe(
      '-1 package, -2 bundles, 0 heads moved, 0 paths broken',
    );
    expect(received.at(-1)?.changes?.packagesRemoved).toEqual(['todo-operator']);
  });

  it('re-running a report compares with the same previous build', async () => {
    await report({ buildId: 'c3', outcome: 'succeeded' }, { store, log: silentLogger });
    const r = await getJson<BuildReport>(store, 'builds/c3/report.json');
    expect(r.previousBuildId).toBe('c2');
    expect(r.changeSummary).toBe('-1 package, -2 bundles, 0 heads moved, 0 paths broken');
  });

  it('the report page draws the change and every package graph, self-contained', async () => {
    const page = (await renderReportPage(store, 'c3'))!;
    expect(page).toContain(
      '<p class="summary" id="change-summary">-1 package, -2 bundles, 0 heads moved, 0 paths broken</p>',
    );
    expect(page).toContain('<h2 id="changes">Changes since build c2</h2>');
    // The removed package drawn with its nodes marked removed, the head starred.
    const changed = page.slice(page.indexOf('<div class="graph changed">'));
    expect(changed).toContain('<svg class="upgrade-graph" data-package="todo-operator"');
    expect(changed).toContain(
      '<g class="node" data-bundle="todo-operator.v1.1.0" data-mark="removed" data-head="true">',
    );
    expect(changed).toContain(
      'data-kind="replace" data-mark="removed" data-from="todo-operator.v1.0.0" data-to="todo-operator.v1.1.0"',
    );
    // Every package of the new catalog, unmarked.
    expect(page).toContain('<h2 id="graphs">Upgrade graphs (1 packages)</h2>');
    expect(page).toContain('data-bundle="hello-operator.v0.2.0" data-mark="same" data-head="true"');
    // Nothing to load: no src/href attributes, no script, a CSP that allows nothing remote.
    expect(page).not.toMatch(/\s(src|href)=|<script/i);
    expect(page).toContain(
      `content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`,
    );
    expect(await renderReportPage(store, 'missing')).toBeUndefined();
  });

  it('FBC builds are compared from their stored configs', async () => {
    expect((await build('f1', 'oci:out/fbc:v1', 'fbc')).previousBuildId).toBeNull();
    const r = await build('f2', 'oci:out/fbc:v1', 'fbc');
    expect(r.previousBuildId).toBe('f1');
    expect(await store.head('builds/f2/bundles.db')).toBeUndefined();
    expect(r.changes).toMatchObject({ empty: true, old: 'build f1', new: 'build f2' });
    expect(r.changeSummary).toBe('no changes');
  });

  it('another target has its own history', async () => {
    const r = await build('d1', 'oci:out/other:v1');
    expect(r.previousBuildId).toBeNull();
  });
});
