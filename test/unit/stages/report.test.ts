// The report stage over a real local store and a real HTTP webhook receiver: the report is
// rebuilt from stage records alone, secrets stay out, failures name their stage, and the
// webhook is signed and retried only when retrying can help.
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidBuildRequestError,
  saveBuildRequest,
  validateBuildRequest,
} from '../../../lib/stages/build-request.js';
import { type BuildReport, report, SIGNATURE_HEADER } from '../../../lib/stages/report.js';
import { readFetchedPackages, runRecorded } from '../../../lib/stages/stage-results.js';
import type {
  BuildIndexResult,
  FetchedPackage,
  PushImageResult,
} from '../../../lib/stages/types.js';
import { silentLogger } from '../../../lib/stages/types.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { getJson, putJson } from '../../../lib/store/store.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'report-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let seq = 0;
async function seededBuild(options: { failPush?: boolean } = {}) {
  const store = new LocalDirStore(path.join(dir, `s${++seq}`));
  // Stored as given (the CLI does not validate URLs): the report must still redact them.
  const request = {
    buildId: `b${seq}`,
    appRegistry: {
      endpoint: 'https://user:pw@quay.example/cnr?token=abcd1234',
      org: 'ops',
      authTokenSecret: 'app-registry-token',
    },
    from: 'scratch',
    to: 'registry.example/cat:v1',
  };
  await saveBuildRequest(store, request);
  const id = request.buildId;
  await runRecorded(store, id, 'list-packages', async () => ({
    buildId: id,
    packages: [
      { name: 'alpha', release: '1.0.0', digest: '1'.repeat(64) },
      { name: 'beta', release: '2.0.0', digest: '2'.repeat(64) },
    ],
  }));
  for (const [name, release, digest, downloaded] of [
    ['alpha', '1.0.0', D1, true],
    ['beta', '2.0.0', D2, false],
  ] as const) {
    await runRecorded(
      store,
      id,
      'fetch-package',
      async (): Promise<FetchedPackage> => ({
        name,
        release,
        digest,
        key: `blobs/sha256/${digest.slice(7)}`,
        size: 10,
        downloaded,
      }),
      { item: name },
    );
  }
  // As build-index writes it: load problems, then blob decoding warnings.
  await putJson(store, `builds/${id}/warnings.json`, {
    summary: 'error building database: 2 problems',
    problems: [{ subject: 'beta.v2', kind: 'bundle', message: 'bundle beta.v2 has no CSV' }],
    decoding: ['alpha: skipping bad channel'],
  });
  await runRecorded(
    store,
    id,
    'build-index',
    async (): Promise<BuildIndexResult> => ({
      buildId: id,
      indexFormat: 'sqlite-v7',
      dbKey: `builds/${id}/bundles.db`,
      dbDigest: D1,
      dbSize: 4096,
      filesKey: `builds/${id}/catalog-files.json`,
      fileCount: 1,
      fileBytes: 4096,
      totals: { packages: 2, channels: 2, bundles: 3 },
      counts: {
        package: 2,
        channel: 2,
        channel_entry: 3,
        operatorbundle: 3,
        api: 1,
        api_provider: 1,
        api_requirer: 0,
        related_image: 0,
      },
      warningsKey: `builds/${id}/warnings.json`,
      warningCount: 2,
    }),
  );
  const push = runRecorded(store, id, 'push-image', async (): Promise<PushImageResult> => {
    if (options.failPush)
      throw Object.assign(new Error('pushing manifest registry.example/cat:v1: 401 UNAUTHORIZED'), {
        name: 'RegistryAuthError',
      });
    return {
      buildId: id,
      ref: 'registry.example/cat:v1',
      digest: D2,
      blobs: {
        uploaded: 2,
        mounted: 1,
        present: 0,
        bytesUploaded: 500,
        bytesMounted: 7000,
        bytesPresent: 0,
      },
    };
  });
  if (options.failPush) await expect(push).rejects.toThrow('401');
  else await push;
  return { store, id };
}

describe('report stage', () => {
  it('writes report.json and report.md from the stage records, secrets left out', async () => {
    const { store, id } = await seededBuild();
    const out = await report({ buildId: id, outcome: 'succeeded' }, { store, log: silentLogger });
    expect(out).toEqual({
      buildId: id,
      outcome: 'succeeded',
      reportKey: `builds/${id}/report.json`,
      reportMdKey: `builds/${id}/report.md`,
    });
    const r = await getJson<BuildReport>(store, out.reportKey);
    expect(r.outcome).toBe('succeeded');
    expect(r.failure).toBeNull();
    expect(r.packages.map((p) => [p.name, p.release, p.digest, p.downloaded])).toEqual([
      ['alpha', '1.0.0', D1, true],
      ['beta', '2.0.0', D2, false],
    ]);
    expect(r.counts).toEqual({ packages: 2, downloaded: 1, cached: 1, bundles: 3, warnings: 2 });
    expect(r.warnings).toEqual(['bundle beta.v2 has no CSV', 'alpha: skipping bad channel']);
    expect(r.push).toMatchObject({ ref: 'registry.example/cat:v1', digest: D2 });
    expect(r.bytes).toEqual({ uploaded: 500, mounted: 7000, skipped: 0 });
    expect(r.stages.map((s) => [s.stage, s.outcome, s.runs])).toEqual([
      ['list-packages', 'succeeded', 1],
      ['fetch-package', 'succeeded', 2],
      ['build-index', 'succeeded', 1],
      ['push-image', 'succeeded', 1],
    ]);
    expect(r.request?.appRegistry?.authTokenSecret).toBe('app-registry-token');
    const text =
      new TextDecoder().decode(await store.get(out.reportKey)) +
      new TextDecoder().decode(await store.get(out.reportMdKey));
    expect(text).not.toContain('pw@');
    expect(text).not.toContain('abcd1234');
    const md = new TextDecoder().decode(await store.get(out.reportMdKey));
    expect(md).toContain('# Catalog build b1: succeeded');
    expect(md).toContain('- bundle beta.v2 has no CSV');
    expect(md).toContain('Pushed sha256:2222');
  });

  it('reports a failed build with the failing stage and error name', async () => {
    const { store, id } = await seededBuild({ failPush: true });
    const given = await report(
      {
        buildId: id,
        outcome: 'failed',
        failure: { stage: 'push-image', name: 'RegistryAuthError', message: 'x' },
      },
      { store, log: silentLogger },
    );
    expect((await getJson<BuildReport>(store, given.reportKey)).failure).toEqual({
      stage: 'push-image',
      name: 'RegistryAuthError',
      message: 'x',
    });
    // Without the Catch's details, the failed stage record says it.
    await report({ buildId: id, outcome: 'failed' }, { store, log: silentLogger });
    const r = await getJson<BuildReport>(store, given.reportKey);
    expect(r.failure).toMatchObject({ stage: 'push-image', name: 'RegistryAuthError' });
    expect(r.push).toBeNull();
    expect(r.stages.at(-1)).toMatchObject({
      stage: 'push-image',
      outcome: 'failed',
      error: { name: 'RegistryAuthError' },
    });
  });

  it('removes the layer uploads that killed assemble attempts left, and nothing else', async () => {
    const { store, id } = await seededBuild();
    await store.put(`builds/${id}/uploads/layer-0123456789abcdef.tar.gz`, 'half a layer');
    await store.put(`builds/${id}/uploads/layer-fedcba9876543210.tar.gz`, 'another half');
    const before = (await store.list(`builds/${id}/`)).map((o) => o.key);
    await report({ buildId: id, outcome: 'failed' }, { store, log: silentLogger });
    const after = (await store.list(`builds/${id}/`)).map((o) => o.key);
    expect(after.filter((k) => k.includes('/uploads/'))).toEqual([]);
    // Every other object of the build is still there.
    for (const key of before.filter((k) => !k.includes('/uploads/'))) expect(after).toContain(key);
  });

  it('gives build-index the fetched packages in listing order', async () => {
    const { store, id } = await seededBuild();
    expect((await readFetchedPackages(store, id)).map((p) => p.name)).toEqual(['alpha', 'beta']);
    await expect(readFetchedPackages(store, 'nope')).rejects.toMatchObject({
      name: 'StoreNotFoundError',
    });
  });
});

describe('report webhook', () => {
  let server: Server;
  let url: string;
  const received: Array<{ headers: IncomingMessage['headers']; body: string; url: string }> = [];
  let answers: number[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body, url: req.url ?? '' });
        res.statusCode = answers.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('signs the exact body with HMAC-SHA256 and retries a 503', async () => {
    const { store, id } = await seededBuild();
    received.length = 0;
    answers = [503, 200];
    const out = await report(
      { buildId: id, outcome: 'succeeded', webhook: { url, hmacSecret: 'hook-secret-name' } },
      {
        store,
        log: silentLogger,
        resolveSecret: async (name) => (name === 'hook-secret-name' ? 'k3y-value' : 'wrong'),
        sleep: async () => {},
      },
    );
    expect(out.webhook).toEqual({ url, delivered: true, status: 200, attempts: 2 });
    expect(received).toHaveLength(2);
    const last = received[1]!;
    const expected = `sha256=${createHmac('sha256', 'k3y-value').update(last.body).digest('hex')}`;
    expect(last.headers[SIGNATURE_HEADER]).toBe(expected);
    expect(JSON.parse(last.body)).toMatchObject({ buildId: id, outcome: 'succeeded' });
    expect(last.body).not.toContain('k3y-value');
  });

  it('posts to the stored webhook URL as given, while the report shows it redacted', async () => {
    const { store, id } = await seededBuild();
    const stored = await getJson<Record<string, unknown>>(store, `builds/${id}/request.json`);
    await putJson(store, `builds/${id}/request.json`, {
      ...stored,
      webhook: { url: `${url}?token=s3cr3t-hook` },
    });
    received.length = 0;
    answers = [204];
    const out = await report(
      { buildId: id, outcome: 'succeeded' },
      { store, log: silentLogger, sleep: async () => {} },
    );
    expect(out.webhook).toMatchObject({ delivered: true, status: 204 });
    expect(received[0]!.url).toBe('/hook?token=s3cr3t-hook');
    expect(received[0]!.body).not.toContain('s3cr3t-hook');
    expect((await getJson<BuildReport>(store, out.reportKey)).request?.webhook?.url).toBe(
      `${url}?token=REDACTED`,
    );
  });

  it('does not retry a 4xx answer and records the failure without throwing', async () => {
    const { store, id } = await seededBuild();
    received.length = 0;
    answers = [400];
    const out = await report(
      { buildId: id, outcome: 'succeeded', webhook: { url } },
      { store, log: silentLogger, sleep: async () => {} },
    );
    expect(out.webhook).toEqual({
      url,
      delivered: false,
      status: 400,
      error: 'HTTP 400',
      attempts: 1,
    });
    expect(received).toHaveLength(1);
    expect(received[0]!.headers[SIGNATURE_HEADER]).toBeUndefined();
  });
});

describe('build request validation', () => {
  it('lists every problem and refuses inline secrets', () => {
    let err: unknown;
    try {
      validateBuildRequest({
        appRegistry: { endpoint: 'ftp://x', org: 'o' },
        token: 'abc',
        to: 'r/x:1',
        maxPerRegistry: 0,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidBuildRequestError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^validating build request: /);
    expect(msg).toContain('unknown field "token" (secrets are passed by name');
    expect(msg).toContain('appRegistry.endpoint must be an http(s) URL');
    expect(msg).toContain('to needs from');
    expect(msg).toContain('maxPerRegistry must be an integer');
    expect(msg).not.toContain('abc');
  });

  it('accepts indexFormat sqlite-v7, sqlite or fbc only', () => {
    for (const indexFormat of ['sqlite-v7', 'sqlite', 'fbc'])
      expect(validateBuildRequest({ manifestDir: 'm', indexFormat }).indexFormat).toBe(indexFormat);
    expect(validateBuildRequest({ manifestDir: 'm' }).indexFormat).toBeUndefined();
    expect(() => validateBuildRequest({ manifestDir: 'm', indexFormat: 'sqlite-v13' })).toThrow(
      'validating build request: indexFormat must be one of sqlite-v7, sqlite, fbc',
    );
  });

  it('accepts blob decoding caps as positive integers only', () => {
    expect(
      validateBuildRequest({
        manifestDir: 'm',
        decodeLimits: { maxEntries: 10, maxTotalBytes: 1024 },
      }).decodeLimits,
    ).toEqual({ maxEntries: 10, maxTotalBytes: 1024 });
    expect(() =>
      validateBuildRequest({ manifestDir: 'm', decodeLimits: { maxEntries: 0, maxFiles: 3 } }),
    ).toThrow(
      'validating build request: decodeLimits.maxEntries must be a positive integer; unknown field "decodeLimits.maxFiles"',
    );
  });

  it('assigns a sortable build id and keeps secret names', () => {
    const r = validateBuildRequest(
      { manifestDir: 'm', webhook: { url: 'https://h.example/x', hmacSecret: 'hook' } },
      { now: new Date('2026-01-02T03:04:05.678Z') },
    );
    expect(r.buildId).toMatch(/^20260102T030405Z-[0-9a-f]{8}$/);
    expect(r.webhook).toEqual({ url: 'https://h.example/x', hmacSecret: 'hook' });
  });
});
