// The Lambda handlers with real stores and our real App Registry server; only the AWS-only
// services (Step Functions, Secrets Manager) are mocked, at the SDK edge, with responses
// shaped like the real ones.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as apiHandler, type HttpEvent } from '../../../functions/api.js';
import { handler as baseImageHandler, isBaseOf } from '../../../functions/base-image.js';
import { handler as buildIndexHandler } from '../../../functions/build-index.js';
import {
  credentialsFor,
  runtimeFromEnv,
  SecretNotFoundError,
  setFunctionRuntime,
} from '../../../functions/commons/runtime.js';
import { handler as fetchBundleHandler } from '../../../functions/fetch-bundle.js';
import { handler as fetchPackageHandler } from '../../../functions/fetch-package.js';
import { handler as listBundlesHandler } from '../../../functions/list-bundles.js';
import { handler as reportHandler } from '../../../functions/report.js';
import { handler as watchHandler } from '../../../functions/watch.js';
import { type AppRegistryServer, startAppRegistryServer } from '../../../lib/appregistry/server.js';
import { saveBuildRequest } from '../../../lib/stages/build-request.js';
import type { BuildReport } from '../../../lib/stages/report.js';
import { readStageRecord } from '../../../lib/stages/stage-results.js';
import { snapshotOf, writeSnapshot } from '../../../lib/stages/upstream-snapshot.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { getJson, putJson } from '../../../lib/store/store.js';
import { fakeLambdaContext } from '../../support/lambda-context.js';
import { REPO_ROOT } from '../../support/shared-corpus.js';

const SM_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:olm-catalog-builder-test';
const sfnMock = mockClient(SFNClient);
const secretsMock = mockClient(SecretsManagerClient);
let dir: string;
let store: LocalDirStore;
let appRegistry: AppRegistryServer;
let seq = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'handlers-'));
  appRegistry = await startAppRegistryServer({
    dir: path.join(REPO_ROOT, 'examples', 'manifests'),
    org: 'samples',
    host: '127.0.0.1',
    port: 0,
  });
});
afterAll(async () => {
  setFunctionRuntime(undefined);
  sfnMock.restore();
  secretsMock.restore();
  await appRegistry?.stop();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  sfnMock.reset();
  secretsMock.reset();
  store = new LocalDirStore(path.join(dir, `s${++seq}`));
  setFunctionRuntime({
    store,
    resolveSecret: async (name) => `value-of-${name}`,
    sfn: new SFNClient({ region: 'us-east-1' }),
    stateMachineArn: SM_ARN,
    watchTargets: [
      {
        appRegistry: { endpoint: appRegistry.url, org: 'samples' },
        from: '123456789012.dkr.ecr.us-east-1.amazonaws.com/catalog-base:v4.6',
        to: 'registry.example/catalog:latest',
        indexFormat: 'sqlite',
      },
    ],
  });
});
afterEach(() => setFunctionRuntime(undefined));

const ctx = () => fakeLambdaContext('test-fn');
const http = (routeKey: string, extra: Partial<HttpEvent> = {}): HttpEvent => ({
  routeKey,
  ...extra,
});

describe('api handler', () => {
  it('POST /builds validates, stores the request and starts an execution named after the build', async () => {
    sfnMock.on(StartExecutionCommand).resolves({
      executionArn: `${SM_ARN.replace(':stateMachine:', ':execution:')}:b-api`,
      startDate: new Date(),
    });
    const body = JSON.stringify({
      buildId: 'b-api',
      appRegistry: {
        endpoint: 'https://quay.example/cnr',
        org: 'o',
        authTokenSecret: 'catalog-build/token',
      },
    });
    const res = await apiHandler(http('POST /builds', { body }), ctx());
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(res.body)).toMatchObject({ buildId: 'b-api', status: '/builds/b-api' });
    const call = sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call).toMatchObject({ stateMachineArn: SM_ARN, name: 'b-api' });
    expect(JSON.parse(call.input!)).toMatchObject({
      buildId: 'b-api',
      appRegistry: { authTokenSecret: 'catalog-build/token' },
    });
    expect(await getJson(store, 'builds/b-api/request.json')).toMatchObject({ buildId: 'b-api' });
    // The same build id again is a conflict, not a second execution.
    expect((await apiHandler(http('POST /builds', { body }), ctx())).statusCode).toBe(409);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('POST /builds keeps a bundle list out of the execution input: the stored request holds it', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    const bundles = Array.from(
      { length: 3000 },
      (_, i) => `quay.io/community-operator-pipeline-prod/operator-${i}-bundle:v1.0.${i}`,
    );
    const body = JSON.stringify({ buildId: 'b-bundles', bundles, indexFormat: 'fbc' });
    expect(body.length).toBeGreaterThan(200 * 1024);
    const res = await apiHandler(http('POST /builds', { body }), ctx());
    expect(res.statusCode).toBe(202);
    const input = sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!;
    expect(JSON.parse(input)).toEqual({
      buildId: 'b-bundles',
      indexFormat: 'fbc',
      bundleCount: 3000,
    });
    expect(
      (await getJson<{ bundles: string[] }>(store, 'builds/b-bundles/request.json')).bundles,
    ).toEqual(bundles);
  });

  it('POST /builds answers 400 with every problem for an invalid request, and starts nothing', async () => {
    const base64 = Buffer.from(
      JSON.stringify({ appRegistry: { endpoint: 'x', org: 'o' }, password: 'hunter22' }),
    ).toString('base64');
    const res = await apiHandler(
      http('POST /builds', { body: base64, isBase64Encoded: true }),
      ctx(),
    );
    expect(res.statusCode).toBe(400);
    const err = JSON.parse(res.body);
    expect(err.error).toBe('InvalidBuildRequestError');
    expect(err.message).toContain('appRegistry.endpoint "x" is not a URL');
    expect(err.message).toContain('unknown field "password"');
    expect(res.body).not.toContain('hunter22');
    expect((await apiHandler(http('POST /builds', { body: '{' }), ctx())).statusCode).toBe(400);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('GET /builds/{id} returns status, current state and the report when present', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'SUCCEEDED',
      startDate: new Date('2026-01-01T00:00:00Z'),
      stopDate: new Date('2026-01-01T00:01:00Z'),
    } as never);
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [
        {
          id: 9,
          type: 'TaskStateEntered',
          timestamp: new Date(),
          stateEnteredEventDetails: { name: 'Report' },
        },
      ],
    } as never);
    await putJson(store, 'builds/b-get/report.json', { buildId: 'b-get', outcome: 'succeeded' });
    const res = await apiHandler(
      http('GET /builds/{id}', { pathParameters: { id: 'b-get' } }),
      ctx(),
    );
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({
      buildId: 'b-get',
      status: 'SUCCEEDED',
      stage: 'Report',
      report: { outcome: 'succeeded' },
    });
    expect(sfnMock.commandCalls(DescribeExecutionCommand)[0]!.args[0].input.executionArn).toBe(
      `${SM_ARN.replace(':stateMachine:', ':execution:')}:b-get`,
    );

    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
    expect(
      (await apiHandler(http('GET /builds/{id}', { pathParameters: { id: 'nope' } }), ctx()))
        .statusCode,
    ).toBe(404);
    expect(
      (await apiHandler(http('GET /builds/{id}', { pathParameters: { id: '../x' } }), ctx()))
        .statusCode,
    ).toBe(404);
  });
});

describe('api handler: report page', () => {
  it('GET /builds/{id}/report.html serves the page as HTML with a CSP, 404 before a report exists', async () => {
    const missing = await apiHandler(
      http('GET /builds/{id}/report.html', { pathParameters: { id: 'b-page' } }),
      ctx(),
    );
    expect(missing.statusCode).toBe(404);
    await putJson(store, 'builds/b-page/report.json', {
      buildId: 'b-page',
      outcome: 'succeeded',
      failure: null,
      request: null,
      generatedAt: '2026-01-01T00:00:00.000Z',
      packages: [],
      counts: { packages: 0, downloaded: 0, cached: 0, bundles: 0, warnings: 1 },
      warnings: ['hello: <b>not bold</b>'],
      index: null,
      image: null,
      push: null,
      bytes: { uploaded: 0, mounted: 0, skipped: 0 },
      stages: [],
      previousBuildId: null,
      changes: null,
      changeSummary: 'first successful build of this target',
    });
    const res = await apiHandler(
      http('GET /builds/{id}/report.html', { pathParameters: { id: 'b-page' } }),
      ctx(),
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.body).toContain('first successful build of this target');
    expect(res.body).toContain('<li>hello: &lt;b&gt;not bold&lt;/b&gt;</li>');
  });
});

describe('watch handler', () => {
  it('starts a build when upstream differs from the last snapshot and says what changed', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    const packages = [...appRegistry.packages.values()].map((p) => ({
      name: p.repository,
      release: p.release,
      digest: p.digest,
    }));
    const source = { endpoint: appRegistry.url, org: 'samples' };
    // The last good build saw an older release of the first package and not the second.
    await writeSnapshot(store, snapshotOf(source, [{ ...packages[0]!, release: '0.0.1' }]));
    const out = await watchHandler({}, ctx());
    expect(out.targets).toHaveLength(1);
    const t = out.targets[0]!;
    expect(t.changes).toEqual([
      `${packages[0]!.name}: 0.0.1 → ${packages[0]!.release}`,
      `${packages[1]!.name}: added at ${packages[1]!.release}`,
    ]);
    expect(t.buildId).toMatch(/^watch-samples-[0-9a-f]{12}$/);
    const started = sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(started.name).toBe(t.buildId);
    // The template's index format comes along with the rest of it.
    expect(await getJson(store, `builds/${t.buildId}/request.json`)).toMatchObject({
      to: 'registry.example/catalog:latest',
      indexFormat: 'sqlite',
    });

    // Unchanged upstream: nothing starts.
    await writeSnapshot(store, snapshotOf(source, packages));
    sfnMock.resetHistory();
    expect((await watchHandler({}, ctx())).targets[0]).toEqual({ org: 'samples', changes: [] });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('treats an execution that already exists as started, not as an error', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const t = (await watchHandler({}, ctx())).targets[0]!;
    expect(t.alreadyStarted).toBe(true);
    expect(t.changes).toEqual(['no snapshot of samples yet']);
  });
});

describe('base-image trigger', () => {
  const ecrPush = (repo: string, tag: string) => ({
    version: '0',
    id: 'e1',
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: '123456789012',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      result: 'SUCCESS',
      'repository-name': repo,
      'image-digest': `sha256:${'d'.repeat(64)}`,
      'action-type': 'PUSH',
      'image-tag': tag,
    },
  });

  it('starts a rebuild only for a push of the configured base repository and tag', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    expect((await baseImageHandler(ecrPush('catalog-base', 'v4.7'), ctx())).started).toEqual([]);
    expect((await baseImageHandler(ecrPush('other', 'v4.6'), ctx())).started).toEqual([]);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    const out = await baseImageHandler(ecrPush('catalog-base', 'v4.6'), ctx());
    expect(out.started).toHaveLength(1);
    expect(
      JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!),
    ).toMatchObject({
      from: '123456789012.dkr.ecr.us-east-1.amazonaws.com/catalog-base:v4.6',
      indexFormat: 'sqlite',
    });
    expect(
      isBaseOf(
        '123456789012.dkr.ecr.us-east-1.amazonaws.com/catalog-base',
        ecrPush('catalog-base', 'latest'),
      ),
    ).toBe(true);
  });
});

describe('stage handlers', () => {
  it('fetch-package: a stored request it cannot read fails the fetch instead of dropping its caps', async () => {
    await store.put('builds/b-fp/request.json', '{"manifestDir": "m", "decodeLimits": ');
    const err = await fetchPackageHandler(
      {
        input: {
          buildId: 'b-fp',
          appRegistry: { endpoint: appRegistry.url, org: 'samples' },
          name: 'hello-operator',
        },
        execution: 'x',
      } as never,
      ctx(),
    ).catch((e: Error) => e);
    expect(err).toMatchObject({
      name: 'StoreError',
      message: 'reading builds/b-fp/request.json: not valid JSON',
    });
  });

  it('list-bundles and fetch-bundle: the work list from the stored request, one index per event', async () => {
    const bundles = ['registry.example/ns/a-bundle:v1', 'registry.example/ns/b-bundle:v2'];
    await saveBuildRequest(store, { buildId: 'b-lb', bundles });
    const listed = await listBundlesHandler(
      { input: { buildId: 'b-lb', bundleCount: 2 }, execution: 'x' },
      ctx(),
    );
    expect(listed).toEqual({
      count: 2,
      itemsKey: 'builds/b-lb/bundle-refs.json',
      names: [0, 1],
    });
    expect(await getJson(store, 'builds/b-lb/bundle-refs.json')).toEqual(bundles);
    await expect(
      fetchBundleHandler({ input: { buildId: 'b-lb', index: 2 }, execution: 'x' }, ctx()),
    ).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: 'validating the event: build b-lb has no bundle 2 (2 listed)',
    });
    await expect(
      fetchBundleHandler({ input: { buildId: 'b-lb', index: -1 }, execution: 'x' }, ctx()),
    ).rejects.toMatchObject({ name: 'InvalidEventError' });
    // A request without bundles is not a bundle build.
    await saveBuildRequest(store, { buildId: 'b-lb2', manifestDir: 'm' });
    await expect(
      listBundlesHandler({ input: { buildId: 'b-lb2' }, execution: 'x' }, ctx()),
    ).rejects.toMatchObject({
      message: 'validating the event: the request of build b-lb2 names no bundles',
    });
  });

  it('build-index: builds the index format the state carries, and refuses an unknown one', async () => {
    const manifestDir = path.join(REPO_ROOT, 'examples', 'manifests');
    const out = await buildIndexHandler(
      { input: { buildId: 'b-bi', manifestDir, indexFormat: 'sqlite' }, execution: 'x' },
      ctx(),
    );
    expect(out).toMatchObject({ indexFormat: 'sqlite', dbKey: 'builds/b-bi/bundles.db' });
    expect(out.counts.properties).toBeGreaterThan(0);
    await expect(
      buildIndexHandler(
        { input: { buildId: 'b-bi2', manifestDir, indexFormat: 'sqlite13' }, execution: 'x' },
        ctx(),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: 'validating the event: indexFormat must be one of sqlite-v7, sqlite, fbc',
    });
  });

  it('report: validates the envelope, records the run, and turns a Lambda Cause into the failure message', async () => {
    await saveBuildRequest(store, { buildId: 'b-rep', manifestDir: 'm' });
    await expect(
      reportHandler({ input: null, execution: 'x' } as never, ctx()),
    ).rejects.toMatchObject({ name: 'InvalidEventError' });
    const cause = JSON.stringify({
      errorType: 'RegistryAuthError',
      errorMessage: 'pushing manifest r/x:1: 401 UNAUTHORIZED',
      trace: [],
    });
    const out = await reportHandler(
      {
        input: {
          buildId: 'b-rep',
          outcome: 'failed',
          failure: { stage: 'push-image', error: 'RegistryAuthError', cause },
        },
        execution: 'arn:aws:states:us-east-1:1:execution:sm:b-rep',
      },
      ctx(),
    );
    expect(out).toMatchObject({ buildId: 'b-rep', outcome: 'failed' });
    const report = await getJson<BuildReport>(store, 'builds/b-rep/report.json');
    expect(report.failure).toEqual({
      stage: 'push-image',
      name: 'RegistryAuthError',
      message: 'pushing manifest r/x:1: 401 UNAUTHORIZED',
    });
    expect((await readStageRecord(store, 'b-rep', 'report'))?.outcome).toBe('succeeded');
  });

  it('report: a webhook key that cannot be read is named as the webhook key, not the App Registry token', async () => {
    const missing = async (name: string): Promise<string> => {
      throw new SecretNotFoundError(`reading secret ${name}: ResourceNotFoundException`);
    };
    setFunctionRuntime({ store, resolveSecret: missing });
    await saveBuildRequest(store, {
      buildId: 'b-hook',
      appRegistry: { endpoint: 'https://q.example', org: 'o', authTokenSecret: 'cb/token' },
      webhook: { url: 'https://hooks.example/x', hmacSecret: 'cb/hook-key' },
    });
    const err = await reportHandler(
      {
        input: { buildId: 'b-hook', outcome: 'succeeded' },
        execution: 'arn:aws:states:us-east-1:1:execution:sm:b-hook',
      },
      ctx(),
    ).catch((e: Error) => e);
    expect(err).toMatchObject({
      name: 'SecretNotFoundError',
      message:
        "reading secret cb/hook-key (webhook.hmacSecret, the webhook's HMAC key): ResourceNotFoundException",
    });
    expect((err as Error).message).not.toMatch(/App Registry|cb\/token/);
    // The execution fails here, so the report must not say "succeeded" (it was written first).
    const written = await getJson<BuildReport>(store, 'builds/b-hook/report.json');
    expect(written.outcome).toBe('failed');
    expect(written.failure).toMatchObject({ stage: 'report', name: 'SecretNotFoundError' });
    const md = new TextDecoder().decode(await store.get('builds/b-hook/report.md'));
    expect(md).toContain('**Failed in report**: `SecretNotFoundError`');
    expect(md).not.toMatch(/succeeded/i);
    // …and the App Registry token's own failure says it is the token.
    const tokenErr = await credentialsFor(
      { store, resolveSecret: missing },
      { appRegistry: { endpoint: 'https://q.example', org: 'o', authTokenSecret: 'cb/token' } },
    ).catch((e: Error) => e);
    expect((tokenErr as Error).message).toBe(
      'reading secret cb/token (appRegistry.authTokenSecret, the App Registry token): ResourceNotFoundException',
    );
  });
});

describe('observability', () => {
  it('logs JSON with the execution as correlation id and flushes EMF metrics per invocation', async () => {
    await saveBuildRequest(store, { buildId: 'b-obs', manifestDir: 'm' });
    const lines: string[] = [];
    const spy = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    try {
      await reportHandler(
        {
          input: { buildId: 'b-obs', outcome: 'succeeded' },
          execution: 'arn:aws:states:us-east-1:1:execution:sm:b-obs',
        },
        ctx(),
      );
    } finally {
      spy.mockRestore();
    }
    const records = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const log = records.find((r) => r.message === 'build report written');
    expect(log).toMatchObject({
      level: 'INFO',
      correlation_id: 'arn:aws:states:us-east-1:1:execution:sm:b-obs',
      buildId: 'b-obs',
      stage: 'report',
      function_name: 'test-fn',
    });
    const emf = records.find((r) => r._aws);
    expect(emf).toMatchObject({ stage: 'report', BuildsSucceeded: 1, service: 'catalog-build' });
    expect(emf.StageDuration).toBeGreaterThanOrEqual(0);
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('CatalogBuild');
  });
});

describe('secrets', () => {
  it('reads named secrets from Secrets Manager once, and never resolves what the request does not name', async () => {
    secretsMock
      .on(GetSecretValueCommand, { SecretId: 'catalog-build/token' })
      .resolves({ SecretString: 'basic abc123' });
    secretsMock
      .on(GetSecretValueCommand, { SecretId: 'catalog-build/docker' })
      .resolves({ SecretString: '{"auths":{"r.example":{"auth":"dTpw"}}}' });
    secretsMock
      .on(GetSecretValueCommand, { SecretId: 'catalog-build/missing' })
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    const rt = runtimeFromEnv({ BUCKET: 'b', AWS_REGION: 'us-east-1' });
    const creds = await credentialsFor(rt, {
      appRegistry: {
        endpoint: 'https://q.example',
        org: 'o',
        authTokenSecret: 'catalog-build/token',
      },
      registryAuthSecret: 'catalog-build/docker',
    });
    expect(creds).toEqual({
      appRegistryToken: 'basic abc123',
      registryAuthConfig: { auths: { 'r.example': { auth: 'dTpw' } } },
    });
    await credentialsFor(rt, {
      appRegistry: {
        endpoint: 'https://q.example',
        org: 'o',
        authTokenSecret: 'catalog-build/token',
      },
    });
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(await credentialsFor(rt, {})).toEqual({});
    const err = await rt.resolveSecret('catalog-build/missing').catch((e: Error) => e);
    expect(err).toMatchObject({
      name: 'SecretNotFoundError',
      message: 'reading secret catalog-build/missing: ResourceNotFoundException',
    });
    expect(() => runtimeFromEnv({})).toThrow('BUCKET is not set');
  });
});
