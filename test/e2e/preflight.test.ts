// The state machine's first state, end to end on this machine: the real definition run by
// aws-local-stepfunctions with the real handlers, s3rver as the bucket, our App Registry
// server serving examples/manifests, Debian's docker-registry with htpasswd (and one with
// token auth whose user may only pull). A request that cannot succeed must fail in the
// Preflight state with a report naming the stage and the error — and the App Registry must
// not have been asked for anything. A good request passes Preflight and builds.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setFunctionRuntime } from '../../functions/commons/runtime.js';
import { runPipeline, secretEnvName } from '../../functions/local/pipeline.js';
import { type AppRegistryServer, startAppRegistryServer } from '../../lib/appregistry/server.js';
import { registryClientOnDemand } from '../../lib/registry/open-client.js';
import type { BuildReport } from '../../lib/stages/report.js';
import { readStageRecord } from '../../lib/stages/stage-results.js';
import type { PreflightResult } from '../../lib/stages/types.js';
import type { S3Store } from '../../lib/store/s3-store.js';
import { getJson } from '../../lib/store/store.js';
import { MULTI_ARCH, randomIndex } from '../support/random-image.js';
import { type RegistryServer, startRegistry } from '../support/registry-server.js';
import { runCli } from '../support/run-cli.js';
import { type S3TestServer, startS3Server } from '../support/s3-server.js';
import { REPO_ROOT } from '../support/shared-corpus.js';

const MANIFESTS = path.join(REPO_ROOT, 'examples', 'manifests');
const AUTH_SECRET = 'e2e/preflight-auth';

describe('Preflight, the first state: a request that cannot succeed fails before any work', () => {
  let appRegistry: AppRegistryServer;
  let s3: S3TestServer;
  let registry: RegistryServer;
  let pullOnly: RegistryServer;
  let store: S3Store;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let multi: string;

  const request = (extra: Record<string, unknown> = {}) => ({
    appRegistry: { endpoint: appRegistry.url, org: 'demo' },
    from: base,
    to: `${registry.host}/olm/catalog:v1`,
    insecure: true,
    registryAuthSecret: AUTH_SECRET,
    sourceDateEpoch: 0,
    ...extra,
  });

  /** Runs a build that must fail in Preflight; returns its report. */
  const failsInPreflight = async (
    buildId: string,
    body: Record<string, unknown>,
    runEnv: NodeJS.ProcessEnv = env,
  ): Promise<BuildReport> => {
    const before = appRegistry.requests.total;
    const outcome = await runPipeline({ ...body, buildId }, store, {
      env: { ...runEnv, REGISTRY_RETRIES: '0' },
    });
    expect(outcome.status).toBe('FAILED');
    const report = await getJson<BuildReport>(store, outcome.reportKey);
    expect(report.outcome).toBe('failed');
    expect(report.failure?.stage).toBe('preflight');
    // Nothing was listed, let alone downloaded.
    expect(appRegistry.requests.total).toBe(before);
    const md = new TextDecoder().decode(await store.get(`builds/${buildId}/report.md`));
    expect(md).toMatch(/failed/i);
    expect(md).not.toMatch(/succeeded/i);
    return report;
  };

  beforeAll(async () => {
    [appRegistry, s3, registry, pullOnly] = await Promise.all([
      startAppRegistryServer({ dir: MANIFESTS, org: 'demo', host: '127.0.0.1', port: 0 }),
      startS3Server(),
      startRegistry({ auth: 'htpasswd' }),
      startRegistry({ auth: 'token', grants: { tester: { '*': ['pull'] } } }),
    ]);
    store = await s3.newStore('catalog-preflight');
    env = { [secretEnvName(AUTH_SECRET)]: readFileSync(registry.authFile(), 'utf8') };
    // A base image in the registry, pushed by the CLI (which runs the same preflight).
    base = `${registry.host}/olm/base:v1`;
    const pushed = await runCli(
      [
        '--manifest-dir',
        MANIFESTS,
        '--from',
        'scratch',
        '--to',
        base,
        '--insecure',
        '-a',
        registry.authFile(),
        '--store',
        path.join(registry.dataDir, '..', `cli-store-${path.basename(registry.dataDir)}`),
        '-q',
      ],
      { SOURCE_DATE_EPOCH: '0' },
    );
    expect(pushed.code, pushed.stderr).toBe(0);
    // And a two-platform base, for filterByOs.
    multi = `${registry.host}/olm/multi:v1`;
    const opened = registryClientOnDemand(
      { credentials: { registryAuthFile: registry.authFile() } },
      { insecure: true },
    );
    try {
      const client = await opened.get();
      const idx = await randomIndex({
        platforms: MULTI_ARCH.slice(0, 2),
        layers: 1,
        layerSize: 512,
      });
      const repo = 'olm/multi';
      for (const [digest, bytes] of idx.layers)
        await client.uploadBlob(registry.host, repo, digest, bytes.length, bytes);
      for (const { image } of idx.images) {
        const c = image.config;
        await client.uploadBlob(registry.host, repo, c.digest, c.bytes.length, c.bytes);
        await client.putManifest(
          { registry: registry.host, repository: repo, digest: image.manifest.digest },
          image.manifest.bytes,
          image.manifest.mediaType,
        );
      }
      await client.putManifest(
        { registry: registry.host, repository: repo, tag: 'v1' },
        idx.index.bytes,
        idx.index.mediaType,
      );
    } finally {
      await opened.close();
    }
  });
  afterAll(async () => {
    setFunctionRuntime(undefined);
    await Promise.all([appRegistry?.stop(), s3?.stop(), registry?.stop(), pullOnly?.stop()]);
  });

  it('a base tag that does not exist: RegistryNotFoundError in Preflight, no package downloaded', async () => {
    const report = await failsInPreflight(
      'pf-no-base',
      request({ from: `${registry.host}/olm/base:no-such-tag` }),
    );
    expect(report.failure?.name).toBe('RegistryNotFoundError');
    expect(report.failure?.message).toContain('olm/base:no-such-tag');
    expect(report.stages.map((s) => [s.stage, s.outcome])).toEqual([['preflight', 'failed']]);
    expect(appRegistry.requests.blob).toBe(0);
  });

  it('a base without a platform filterByOs keeps: PlatformFilterError in Preflight', async () => {
    const report = await failsInPreflight(
      'pf-platform',
      request({ from: multi, filterByOs: 'windows/.*' }),
    );
    expect(report.failure?.name).toBe('PlatformFilterError');
  });

  it('a webhook key that is not there fails in Preflight naming webhook.hmacSecret, not at the report', async () => {
    const report = await failsInPreflight(
      'pf-webhook',
      request({ webhook: { url: 'http://127.0.0.1:9/hook', hmacSecret: 'e2e/no-such-key' } }),
    );
    expect(report.failure?.name).toBe('SecretNotFoundError');
    expect(report.failure?.message).toContain('e2e/no-such-key (webhook.hmacSecret');
  });

  it('a registry auth secret that is not there fails in Preflight naming registryAuthSecret', async () => {
    const report = await failsInPreflight('pf-no-auth', request(), {});
    expect(report.failure?.name).toBe('SecretNotFoundError');
    expect(report.failure?.message).toContain(`${AUTH_SECRET} (registryAuthSecret`);
  });

  it('a wrong password fails in Preflight with RegistryAuthError, the password nowhere', async () => {
    const wrong = 'wrong-password-e2e-31337';
    const bad = readFileSync(
      registry.authFile({ username: registry.username!, password: wrong }),
      'utf8',
    );
    const report = await failsInPreflight('pf-bad-password', request(), {
      [secretEnvName(AUTH_SECRET)]: bad,
    });
    expect(report.failure?.name).toBe('RegistryAuthError');
    const all = JSON.stringify(report);
    expect(all).not.toContain(wrong);
    expect(all).not.toContain(Buffer.from(`${registry.username}:${wrong}`).toString('base64'));
  });

  it('no credentials for a registry that asks for them: RegistryAuthError in Preflight saying so', async () => {
    const { registryAuthSecret: _none, ...anonymous } = request();
    const report = await failsInPreflight('pf-no-credentials', anonymous);
    expect(report.failure?.name).toBe('RegistryAuthError');
    expect(report.failure?.message).toContain(
      `the registry asks for credentials and none are configured for ${registry.host}`,
    );
  });

  it('credentials without push scope fail in Preflight with RegistryScopeError', async () => {
    const secret = 'e2e/pull-only-auth';
    const report = await failsInPreflight(
      'pf-pull-only',
      request({
        from: 'scratch',
        to: `${pullOnly.host}/olm/catalog:v1`,
        registryAuthSecret: secret,
      }),
      { [secretEnvName(secret)]: readFileSync(pullOnly.authFile(), 'utf8') },
    );
    expect(report.failure?.name).toBe('RegistryScopeError');
    expect(report.failure?.message).toMatch(/lack push scope on repository olm\/catalog/);
  });

  it('a plain-HTTP registry without insecure: RegistryTlsError saying what to set', async () => {
    const report = await failsInPreflight('pf-plain-http', request({ insecure: false }));
    expect(report.failure?.name).toBe('RegistryTlsError');
    expect(report.failure?.message).toContain('"insecure": true');
  });

  it('an invalid request (started without the API) fails in Preflight with every problem', async () => {
    // runPipeline validates too, so hand the state machine an execution input directly.
    const { runLocalExecution } = await import('../../lib/stages/pipeline-local.js');
    const { invokeLocalFunction } = await import('../../functions/commons/local-handlers.js');
    setFunctionRuntime({ store, resolveSecret: async () => '' });
    const run = await runLocalExecution(
      { buildId: 'pf-invalid', manifestDir: MANIFESTS, filterByOs: 'linux/(amd64', extra: 1 },
      invokeLocalFunction,
      { executionName: 'pf-invalid' },
    );
    expect(run.status).toBe('FAILED');
    const report = await getJson<BuildReport>(store, 'builds/pf-invalid/report.json');
    expect(report.failure).toMatchObject({ stage: 'preflight', name: 'InvalidBuildRequestError' });
    expect(report.failure?.message).toContain('unknown field "extra"');
    expect(report.failure?.message).toContain(
      'filterByOs "linux/(amd64" is not a regular expression',
    );
  });

  it('a good request passes Preflight (push scope and base recorded) and builds', async () => {
    const outcome = await runPipeline(request({ buildId: 'pf-good' }), store, { env });
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe('SUCCEEDED');
    const report = await getJson<BuildReport>(store, outcome.reportKey);
    expect(report.stages.map((s) => s.stage)).toEqual([
      'preflight',
      'list-packages',
      'fetch-package',
      'build-index',
      'assemble-image',
      'push-image',
    ]);
    const checked = await readStageRecord<PreflightResult>(store, 'pf-good', 'preflight');
    expect(checked?.result?.checks).toEqual([
      `destination ${registry.host}/olm/catalog: credentials accepted (push scope shows only at the push)`,
      expect.stringMatching(new RegExp(`^base ${base}@sha256:[0-9a-f]{64}: linux/amd64$`)),
    ]);
    expect(appRegistry.requests.blob).toBeGreaterThan(0);
  });
});
