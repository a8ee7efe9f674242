// `catalog-build serve`'s triggers against real servers on loopback: the upstream watcher
// over our App Registry server (a first tick builds, a tick with an unchanged upstream starts
// nothing) and the base-image logic over Debian's docker-registry (first sight records the
// base's digest; a new push of that tag starts a rebuild on it), plus the HTTP routes.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Serving, startServe } from '../../../functions/local/serve-command.js';
import { type AppRegistryServer, startAppRegistryServer } from '../../../lib/appregistry/server.js';
import { type RegistryServer, startRegistry } from '../../support/registry-server.js';
import { runCli } from '../../support/run-cli.js';
import { REPO_ROOT } from '../../support/shared-corpus.js';

const MANIFESTS = path.join(REPO_ROOT, 'examples', 'manifests');

describe('catalog-build serve: watcher, base-image trigger and routes', () => {
  let work: string;
  let appRegistry: AppRegistryServer;
  let registry: RegistryServer;
  let serving: Serving;
  let base: string;

  const pushBase = async (epoch: string) => {
    const run = await runCli(
      [
        '--manifest-dir',
        MANIFESTS,
        '--from',
        'scratch',
        '--to',
        base,
        '--insecure',
        '--store',
        path.join(work, 'cli-store'),
        '-q',
      ],
      { SOURCE_DATE_EPOCH: epoch },
    );
    expect(run.code, run.stderr).toBe(0);
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'serve-'));
    [appRegistry, registry] = await Promise.all([
      startAppRegistryServer({ dir: MANIFESTS, org: 'demo', host: '127.0.0.1', port: 0 }),
      startRegistry(),
    ]);
    base = `${registry.host}/olm/base:v1`;
    serving = await startServe({
      storeDir: path.join(work, 'store'),
      port: 0,
      targets: [
        { appRegistry: { endpoint: appRegistry.url, org: 'demo' } },
        {
          manifestDir: MANIFESTS,
          from: base,
          insecure: true,
          to: `oci:${path.join(work, 'out')}:v1`,
        },
      ],
    });
  });
  afterAll(async () => {
    await serving?.stop();
    await Promise.all([appRegistry?.stop(), registry?.stop()]);
    await rm(work, { recursive: true, force: true });
  });

  it('a watcher tick builds a new upstream; a tick with the upstream unchanged starts nothing', async () => {
    const first = (await serving.tickWatch()) as {
      targets: Array<{ org: string; changes: string[]; buildId?: string }>;
    };
    expect(first.targets).toHaveLength(1);
    const buildId = first.targets[0]!.buildId!;
    expect(buildId).toMatch(/^watch-demo-/);
    await serving.idle();
    const status = await (await fetch(`${serving.url}/builds/${buildId}`)).json();
    expect(status).toMatchObject({ status: 'SUCCEEDED', report: { outcome: 'succeeded' } });

    const started = serving.executions().length;
    const again = await serving.tickWatch();
    expect(again).toEqual({ targets: [{ org: 'demo', changes: [] }] });
    expect(serving.executions()).toHaveLength(started);
  });

  it('the base-image check records a base, then rebuilds when the tag moves', async () => {
    await pushBase('0');
    expect(await serving.tickBaseImages()).toEqual([]);
    expect(await serving.tickBaseImages()).toEqual([]);
    await pushBase('86400');
    const started = await serving.tickBaseImages();
    expect(started).toHaveLength(1);
    await serving.idle();
    const status = (await (await fetch(`${serving.url}/builds/${started[0]}`)).json()) as {
      report: { stages: Array<{ stage: string }> };
    };
    expect(status).toMatchObject({ status: 'SUCCEEDED', report: { request: { from: base } } });
    expect(status.report.stages.map((s) => s.stage)).toContain('assemble-image');
  });

  it('serves the API routes and refuses others', async () => {
    const bad = await fetch(`${serving.url}/builds`, { method: 'POST', body: '{"nope":1}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('InvalidBuildRequestError');
    expect((await fetch(`${serving.url}/builds/missing`)).status).toBe(404);
    expect((await fetch(`${serving.url}/builds/missing/report.html`)).status).toBe(404);
    expect((await fetch(`${serving.url}/elsewhere`)).status).toBe(404);
    const index = await (await fetch(`${serving.url}/`)).text();
    expect(index).toMatch(/<a href="\/builds\/watch-demo-[0-9a-f]+\/report\.html">watch-demo-/);
    const watch = await fetch(`${serving.url}/watch`, { method: 'POST' });
    expect(await watch.json()).toEqual({
      watch: { targets: [{ org: 'demo', changes: [] }] },
      baseImages: [],
    });
  });

  // Last: a second serve replaces the process's function runtime.
  it("the base-image check names the template's registryAuthSecret when it cannot be read", async () => {
    const secret = 'serve/base-auth';
    const envName = 'CATALOG_BUILD_SECRET_SERVE_BASE_AUTH';
    const template = {
      manifestDir: MANIFESTS,
      from: base,
      insecure: true,
      registryAuthSecret: secret,
      to: `oci:${path.join(work, 'out-auth')}:v1`,
    };
    for (const [env, cause] of [
      [{}, `${envName} is not set`],
      [{ [envName]: 'not json' }, 'not a docker config.json'],
    ] as const) {
      const other = await startServe({
        storeDir: path.join(work, 'store-auth'),
        port: 0,
        env,
        targets: [template],
      });
      try {
        await expect(other.tickBaseImages()).rejects.toMatchObject({
          name: 'SecretNotFoundError',
          message: expect.stringContaining(
            `reading secret ${secret} (registryAuthSecret, the registry auth file): ${cause}`,
          ),
        });
      } finally {
        await other.stop();
      }
    }
  });
});
