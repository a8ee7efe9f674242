// `catalog-build serve` driven as a person would: the real CLI started on loopback, two builds
// of the dev corpus started through its API (the second after an upstream change: a CSV
// appended to akka-cluster-operator's channel, etcd removed), then the second build's report
// page opened in Debian's Chromium (playwright-core), which must draw the changed graphs and
// load nothing from anywhere but the server. UPDATE_DOCS_SCREENSHOT=1 refreshes
// docs/report-page.png, the screenshot the README shows.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, CORPUS_SKIP_REASON, HAVE_CORPUS, REPO_ROOT } from '../support/shared-corpus.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`[browser] ${CHROMIUM} is absent (.ci/install installs it); browser test skipped`);
if (!HAVE_CORPUS) console.warn(`[browser] ${CORPUS_SKIP_REASON}`);

const AKKA = 'akka-cluster-operator';

async function appendAkkaCsv(packages: string): Promise<void> {
  const dir = path.join(packages, AKKA);
  await cp(path.join(dir, '1.0.0'), path.join(dir, '1.0.1'), { recursive: true });
  const oldCsv = path.join(dir, '1.0.1', `${AKKA}.v1.0.0.clusterserviceversion.yaml`);
  const csv = (await readFile(oldCsv, 'utf8'))
    .replace(`  name: ${AKKA}.v1.0.0`, `  name: ${AKKA}.v1.0.1`)
    .replace(/^ {2}version: 1\.0\.0$/m, '  version: 1.0.1')
    .replace(`  replaces: ${AKKA}.v0.2.3`, `  replaces: ${AKKA}.v1.0.0`);
  await rm(oldCsv);
  await writeFile(path.join(dir, '1.0.1', `${AKKA}.v1.0.1.clusterserviceversion.yaml`), csv);
  const pkg = path.join(dir, `${AKKA}.package.yaml`);
  await writeFile(pkg, (await readFile(pkg, 'utf8')).replace(`${AKKA}.v1.0.0`, `${AKKA}.v1.0.1`));
}

describe.skipIf(!HAVE_CORPUS || !HAVE_CHROMIUM)(
  'catalog-build serve and the report page in Chromium',
  () => {
    let work: string;
    let packages: string;
    let server: ChildProcess;
    let url: string;
    let stderr = '';

    beforeAll(async () => {
      work = await mkdtemp(path.join(os.tmpdir(), 'serve-browser-'));
      packages = path.join(work, 'packages');
      await cp(path.join(CORPUS, 'packages'), packages, { recursive: true });
      server = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'functions/local/main.ts',
          'serve',
          '--store',
          path.join(work, 'store'),
          '--port',
          '0',
          '--watch-interval',
          '0',
          '--base-image-interval',
          '0',
        ],
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      server.stderr!.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
        });
        server.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
      });
    });
    afterAll(async () => {
      server?.kill('SIGTERM');
      await rm(work, { recursive: true, force: true });
    });

    async function runBuild(buildId: string): Promise<Record<string, unknown>> {
      const res = await fetch(`${url}/builds`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          buildId,
          manifestDir: packages,
          from: 'scratch',
          to: `oci:${path.join(work, 'image')}:v1`,
          sourceDateEpoch: 0,
        }),
      });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ buildId, status: `/builds/${buildId}` });
      // Poll as a client would until the execution stops.
      for (;;) {
        const status = (await (await fetch(`${url}/builds/${buildId}`)).json()) as Record<
          string,
          unknown
        >;
        if (status.status !== 'RUNNING') return status;
        await new Promise((r) => setTimeout(r, 250));
      }
    }

    it('builds twice through the API, then the page draws what changed', async () => {
      const first = await runBuild('dev-1');
      expect(first).toMatchObject({
        status: 'SUCCEEDED',
        stage: 'Report',
        report: { changeSummary: 'first successful build of this target' },
      });
      await appendAkkaCsv(packages);
      await rm(path.join(packages, 'etcd'), { recursive: true });
      const second = await runBuild('dev-2');
      const summary = '-1 package, +1 bundle, -5 bundles, 1 head moved, 0 paths broken';
      expect(second).toMatchObject({
        status: 'SUCCEEDED',
        report: { previousBuildId: 'dev-1', changeSummary: summary },
      });

      const browser = await chromium.launchPersistentContext(path.join(work, 'chromium-profile'), {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        viewport: { width: 1280, height: 900 },
      });
      try {
        const page = await browser.newPage();
        const requested: string[] = [];
        page.on('request', (r) => requested.push(r.url()));
        const response = await page.goto(`${url}/builds/dev-2/report.html`);
        expect(response?.status()).toBe(200);
        expect(await page.title()).toBe('Catalog build dev-2: succeeded');
        expect(await page.locator('#change-summary').textContent()).toBe(summary);

        // The changed package is drawn: the new head added (green), its new edge drawn.
        const akka = page.locator(`.graph.changed svg.upgrade-graph[data-package="${AKKA}"]`);
        const head = akka.locator(`g.node[data-bundle="${AKKA}.v1.0.1"]`);
        expect(await head.getAttribute('data-mark')).toBe('added');
        expect(await head.getAttribute('data-head')).toBe('true');
        const box = await head.boundingBox();
        expect(box?.width).toBeGreaterThan(50);
        expect(box?.height).toBeGreaterThan(10);
        const edge = akka.locator(
          `path.edge[data-mark="added"][data-from="${AKKA}.v1.0.0"][data-to="${AKKA}.v1.0.1"]`,
        );
        expect((await edge.boundingBox())?.width).toBeGreaterThan(5);
        expect(await akka.locator('g.node').count()).toBe(5);
        // The removed package is drawn with every node marked removed.
        const etcd = page.locator('.graph.changed svg.upgrade-graph[data-package="etcd"] g.node');
        expect(await etcd.count()).toBeGreaterThan(0);
        expect(
          new Set(await etcd.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-mark')))),
        ).toEqual(new Set(['removed']));
        // Every package of the new catalog has its graph.
        expect(await page.locator('details.package-graph svg.upgrade-graph').count()).toBe(38);

        // Nothing was requested from anywhere else.
        expect(requested.length).toBeGreaterThan(0);
        for (const r of requested) expect(r.startsWith(url)).toBe(true);

        const shot = await page.screenshot({ fullPage: true });
        expect(shot.subarray(1, 4).toString()).toBe('PNG');
        if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
          await writeFile(path.join(work, 'shot.png'), shot);
          await copyFile(
            path.join(work, 'shot.png'),
            path.join(REPO_ROOT, 'docs', 'report-page.png'),
          );
        }
      } finally {
        await browser.close();
      }
    });
  },
);
