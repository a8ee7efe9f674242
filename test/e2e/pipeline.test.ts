// The serverless pipeline end to end, on this machine: our App Registry server serving the
// dev corpus → the real state machine definition run by aws-local-stepfunctions with the
// real Lambda handlers → s3rver as the bucket → the index → the image → a real
// docker-registry (htpasswd). skopeo reads the result back; the DB inside the pushed layer
// must MATCH the reference tool's rows. Then: a second build downloads and uploads nothing,
// the watcher starts nothing, and wrong registry credentials fail the build in its first
// state (preflight) with a named error, a report, and the destination tag left as it was.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localLambdaContext } from '../../functions/commons/lambda-context.js';
import { setFunctionRuntime } from '../../functions/commons/runtime.js';
import { runPipeline, secretEnvName } from '../../functions/local/pipeline.js';
import { type AppRegistryServer, startAppRegistryServer } from '../../lib/appregistry/server.js';
import { DB_FILE_NAME } from '../../lib/image/layer.js';
import type { BuildReport } from '../../lib/stages/report.js';
import type { S3Store } from '../../lib/store/s3-store.js';
import { getJson } from '../../lib/store/store.js';
import { type RegistryServer, startRegistry } from '../support/registry-server.js';
import { type S3TestServer, startS3Server } from '../support/s3-server.js';
import {
  CORPUS,
  CORPUS_SKIP_REASON,
  compareIndex,
  EXPECTED_PACKAGES,
  HAVE_CORPUS,
} from '../support/shared-corpus.js';
import { layerFiles, pullWithSkopeo } from '../support/skopeo.js';

const ORG = 'community';

/** A loopback port that was free a moment ago: nothing answers there. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
const AUTH_SECRET = 'e2e/registry-auth';

describe.skipIf(!HAVE_CORPUS)('serverless pipeline end to end (dev corpus)', () => {
  let appRegistry: AppRegistryServer;
  let s3: S3TestServer;
  let registry: RegistryServer;
  let store: S3Store;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let first: BuildReport;
  let destination: string;

  const request = (extra: Record<string, unknown> = {}) => ({
    appRegistry: { endpoint: appRegistry.url, org: ORG },
    from: 'scratch',
    to: destination,
    insecure: true,
    registryAuthSecret: AUTH_SECRET,
    sourceDateEpoch: 0,
    ...extra,
  });
  const skopeo = (...args: string[]) =>
    execFileSync('skopeo', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const tagDigest = () =>
    skopeo(
      'inspect',
      '--tls-verify=false',
      '--creds',
      `${registry.username}:${registry.password}`,
      '--format',
      '{{.Digest}}',
      `docker://${destination}`,
    ).trim();

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'e2e-pipeline-'));
    [appRegistry, s3, registry] = await Promise.all([
      startAppRegistryServer({
        dir: path.join(CORPUS, 'packages'),
        org: ORG,
        host: '127.0.0.1',
        port: 0,
      }),
      startS3Server(),
      startRegistry({ auth: 'htpasswd' }),
    ]);
    store = await s3.newStore('catalog-e2e');
    destination = `${registry.host}/catalog/dev:v1`;
    env = { [secretEnvName(AUTH_SECRET)]: readFileSync(registry.authFile(), 'utf8') };
  });
  afterAll(async () => {
    setFunctionRuntime(undefined);
    await Promise.all([appRegistry?.stop(), s3?.stop(), registry?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('builds, pushes and reports the dev corpus; the pushed DB matches the reference rows', async () => {
    const outcome = await runPipeline(request({ buildId: 'e2e-first' }), store, { env });
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe('SUCCEEDED');
    first = await getJson<BuildReport>(store, outcome.reportKey);
    expect(first.outcome).toBe('succeeded');
    expect(first.counts.packages).toBe(appRegistry.packages.size);
    expect(first.counts.downloaded).toBe(appRegistry.packages.size);
    expect(first.warnings.some((w) => w.includes('buildv2-operator'))).toBe(true);
    expect(first.warnings.some((w) => w.includes('spinnaker-operator'))).toBe(true);
    expect(first.stages.map((s) => s.stage)).toEqual([
      'preflight',
      'list-packages',
      'fetch-package',
      'build-index',
      'assemble-image',
      'push-image',
    ]);
    expect(first.push?.ref).toBe(destination);
    const md = new TextDecoder().decode(await store.get(`builds/e2e-first/report.md`));
    expect(md).toContain('buildv2-operator');

    // skopeo sees the tag at the reported digest.
    expect(tagDigest()).toBe(first.push?.digest);

    // The DB inside the pushed image's last layer is the reference tool's index.
    const _layout = path.join(work, 'oci');
    const { lastLayer } = pullWithSkopeo(
      destination,
      work,
      `${registry.username}:${registry.password}`,
    );
    const files = await layerFiles(lastLayer);
    expect(files.map((f) => f.name)).toEqual([DB_FILE_NAME]);
    const dbFile = path.join(work, 'pushed-bundles.db');
    writeFileSync(dbFile, files[0]!.data);
    const verdict = await compareIndex(EXPECTED_PACKAGES, dbFile);
    expect(verdict.output).toContain('MATCH');
    expect(verdict.code).toBe(0);
  });

  it('a second build with nothing changed downloads 0 blobs and uploads 0 blobs', async () => {
    const blobsBefore = appRegistry.requests.blob;
    // A webhook receiver on loopback: the payload carries the one-line change summary.
    const payloads: BuildReport[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        payloads.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/hook`;
    const outcome = await runPipeline(
      request({ buildId: 'e2e-second', webhook: { url: hook } }),
      store,
      { env },
    ).finally(() => new Promise((r) => receiver.close(r)));
    expect(outcome.status).toBe('SUCCEEDED');
    const second = await getJson<BuildReport>(store, outcome.reportKey);
    // Compared with the first build of the same destination: nothing changed, and it says so.
    expect(first.changeSummary).toBe('first successful build of this target');
    expect(second.previousBuildId).toBe('e2e-first');
    expect(second.changes).toMatchObject({ empty: true, summaryText: 'no changes', packages: [] });
    expect(second.changes?.summary.bundlesAdded).toBe(0);
    expect(second.changeSummary).toBe('no changes');
    expect(payloads.map((p) => [p.buildId, p.changeSummary])).toEqual([
      ['e2e-second', 'no changes'],
    ]);
    const md = new TextDecoder().decode(await store.get('builds/e2e-second/report.md'));
    expect(md).toContain('## Changes since build e2e-first');
    expect(appRegistry.requests.blob).toBe(blobsBefore);
    expect(second.counts.downloaded).toBe(0);
    expect(second.counts.cached).toBe(second.counts.packages);
    expect(second.push?.blobs.uploaded).toBe(0);
    expect(second.bytes.uploaded).toBe(0);
    expect(second.push?.digest).toBe(first.push?.digest);
  });

  it('the watcher then finds nothing changed upstream and starts nothing', async () => {
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).resolves({
      executionArn: 'arn:aws:states:us-east-1:000000000000:execution:catalog-build:x',
      startDate: new Date(),
    });
    setFunctionRuntime({
      store,
      resolveSecret: async () => {
        throw new Error('no secret expected');
      },
      sfn: new SFNClient({ region: 'us-east-1' }),
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:catalog-build',
      watchTargets: [request()],
    });
    try {
      const { handler: watchHandler } = await import('../../functions/watch.js');
      const result = await watchHandler({}, localLambdaContext('watch'));
      expect(result).toEqual({ targets: [{ org: ORG, changes: [] }] });
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    } finally {
      sfn.restore();
    }
  });

  it('wrong registry credentials fail in preflight with a named error, a report, and the tag untouched', async () => {
    const before = tagDigest();
    const badAuth = path.join(work, 'bad-auth.json');
    writeFileSync(
      badAuth,
      JSON.stringify({
        auths: {
          [registry.host]: {
            auth: Buffer.from(`${registry.username}:wrong-password`).toString('base64'),
          },
        },
      }),
    );
    const badEnv = { [secretEnvName(AUTH_SECRET)]: readFileSync(badAuth, 'utf8') };
    // A different epoch gives a different image, so a half-done push would move the tag.
    const outcome = await runPipeline(
      request({ buildId: 'e2e-bad-token', sourceDateEpoch: 86_400 }),
      store,
      { env: badEnv },
    );
    expect(outcome.status).toBe('FAILED');
    const report = await getJson<BuildReport>(store, outcome.reportKey);
    expect(report.outcome).toBe('failed');
    // Preflight asks the registry to take the credentials before any work.
    expect(report.failure?.stage).toBe('preflight');
    expect(report.failure?.name).toBe('RegistryAuthError');
    expect(report.failure?.message).not.toContain('wrong-password');
    expect(JSON.stringify(report)).not.toContain(
      Buffer.from(`${registry.username}:wrong-password`).toString('base64'),
    );
    expect(tagDigest()).toBe(before);
  });

  it('a registry that is down fails in preflight with a temporary named error and a report', async () => {
    // A port nothing listens on: connections are refused, which the client treats as
    // temporary; REGISTRY_RETRIES keeps its in-process retries short, the state machine's
    // Retry runs with no pause locally, then Catch → report.
    const down = `127.0.0.1:${await closedPort()}/olm/catalog:v1`;
    const outcome = await runPipeline(request({ buildId: 'e2e-registry-down', to: down }), store, {
      env: { ...env, REGISTRY_RETRIES: '0' },
    });
    expect(outcome.status).toBe('FAILED');
    const report = await getJson<BuildReport>(store, outcome.reportKey);
    expect(report.outcome).toBe('failed');
    expect(report.failure?.stage).toBe('preflight');
    expect(report.failure?.name).toBe('RegistryUnavailableError');
    expect(report.failure?.message).toMatch(/127\.0\.0\.1:\d+/);
    expect(report.stages.map((s) => [s.stage, s.outcome])).toEqual([['preflight', 'failed']]);
  });
});

if (!HAVE_CORPUS) console.warn(`[e2e] ${CORPUS_SKIP_REASON}`);
