// Hostile input, class "unbounded reads and waits": servers that never answer and base images
// whose config never ends. Each limit is the user's to set (--connect-timeout,
// --headers-timeout, --idle-timeout, --max-manifest-size), and running into one is a named
// error that says which limit it was and how to raise it. The 3 GiB config is generated on
// the fly and never materialised; the case asserts how many bytes the server got to send.
import { readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type AppRegistryServer, startAppRegistryServer } from '../../lib/appregistry/server.js';
import { expectNoSecrets, type HostileCase, hostileRoot } from '../support/hostile-harness.js';
import { type HostileServer, startHostileServer } from '../support/hostile-server.js';
import { REPO_ROOT } from '../support/shared-corpus.js';

const TOKEN = 'limits-token-3c4d5e6f';
const MANIFESTS = path.join(REPO_ROOT, 'examples', 'manifests');
const harness = hostileRoot('hostile-limits');
const servers: Array<HostileServer | AppRegistryServer> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(() => {
  harness.expectNothingOutside();
  harness.cleanup();
});

function failure(c: HostileCase): { name: string; message: string } {
  const builds = path.join(c.store, 'builds');
  const [id] = readdirSync(builds);
  const report = JSON.parse(readFileSync(path.join(builds, id!, 'report.json'), 'utf8'));
  return report.failure;
}

/** A server that accepts every request and never sends headers. */
async function silent(): Promise<HostileServer> {
  const srv = await startHostileServer(() => new Promise<void>(() => undefined));
  servers.push(srv);
  return srv;
}

describe('timeouts are the user’s to set, and say so', () => {
  it('a silent destination registry: RegistryTimeoutError naming --headers-timeout, before any download', async () => {
    const registry = await silent();
    const appr = await startAppRegistryServer({ dir: MANIFESTS, org: 'demo' });
    servers.push(appr);
    const c = harness.newCase('silent-registry');
    const run = await c.run([
      '--appregistry-org',
      'demo',
      '--appregistry-endpoint',
      appr.url,
      '--auth-token',
      TOKEN,
      '--from',
      'scratch',
      '--to',
      `${registry.host}/ns/img:v1`,
      '--insecure',
      '--headers-timeout',
      '300ms',
      '--store',
      c.store,
    ]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      /sent no response headers within the headers timeout \(300 ms; raise it with --headers-timeout or the build request's timeouts\.headersMs\)/,
    );
    expect(failure(c).name).toBe('RegistryTimeoutError');
    expect(appr.requests.total).toBe(0);
    expect(registry.requests.length).toBeGreaterThan(0);
    expectNoSecrets(harness, run, c.work, [{ secret: TOKEN }]);
  });

  it('a silent App Registry: AppRegistryTimeoutError naming --headers-timeout', async () => {
    const appr = await silent();
    const c = harness.newCase('silent-appregistry');
    const run = await c.run([
      '--appregistry-org',
      'demo',
      '--appregistry-endpoint',
      appr.url,
      '--auth-token',
      TOKEN,
      '--headers-timeout',
      '0.2s',
      '--store',
      c.store,
      '--to-db',
      path.join(c.work, 'out', 'index.db'),
    ]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      /listing packages of org demo at http:\/\/127\.0\.0\.1:\d+: the server accepted the connection but sent no response headers within the headers timeout \(200 ms; raise it with --headers-timeout or the build request's timeouts\.headersMs\)/,
    );
    expect(failure(c).name).toBe('AppRegistryTimeoutError');
    expectNoSecrets(harness, run, c.work, [{ secret: TOKEN }]);
  });

  it.each([
    ['--connect-timeout', 'soon'],
    ['--headers-timeout', '0s'],
    ['--idle-timeout', '-5'],
  ])('%s %s is a usage error (exit 2)', async (flag, value) => {
    const c = harness.newCase(`bad${flag}`);
    const run = await c.run(['--manifest-dir', MANIFESTS, '--store', c.store, flag, value]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`"${flag}" flag: not a duration`);
  });

  it('a timeout over an hour is refused by the request schema, named by its flag', async () => {
    const c = harness.newCase('timeout-too-long');
    const run = await c.run([
      '--manifest-dir',
      MANIFESTS,
      '--store',
      c.store,
      '--idle-timeout',
      '61m',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--idle-timeout must be a number of ms from 1 to 3600000');
  });
});

const GiB = 1024 ** 3;
const CONFIG_DIGEST = `sha256:${'c'.repeat(64)}`;

/** Streams `total` zero bytes in 1 MiB writes, honouring back-pressure; counts what it wrote. */
async function streamZeros(res: ServerResponse, total: number, served: { bytes: number }) {
  const chunk = Buffer.alloc(1024 * 1024);
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  while (!closed && served.bytes < total) {
    served.bytes += chunk.length;
    if (!res.write(chunk))
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
  }
  res.end();
}

/** A registry whose base image `ns/base:v1` announces, and streams, a 3 GiB config. */
async function endlessConfigRegistry(served: { bytes: number; configGets: number }) {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: CONFIG_DIGEST,
      size: 3 * GiB,
    },
    layers: [],
  });
  const srv = await startHostileServer(async (req, res) => {
    if (req.url === '/v2/' || req.url === '/v2') {
      res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' });
      res.end('{}');
    } else if (req.url?.startsWith('/v2/ns/base/manifests/')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      res.end(req.method === 'HEAD' ? undefined : manifest);
    } else if (req.url === `/v2/ns/base/blobs/${CONFIG_DIGEST}`) {
      served.configGets++;
      await streamZeros(res, 3 * GiB, served);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  servers.push(srv);
  return srv;
}

describe('manifests and configs are read under their own cap', () => {
  it('a 3 GiB config stops at the 4 MiB cap with ImageDocumentLimitError', async () => {
    const served = { bytes: 0, configGets: 0 };
    const registry = await endlessConfigRegistry(served);
    const c = harness.newCase('endless-config');
    const run = await c.run([
      '--manifest-dir',
      MANIFESTS,
      '--from',
      `${registry.host}/ns/base:v1`,
      '--to',
      `${registry.host}/ns/img:v1`,
      '--insecure',
      '--store',
      c.store,
    ]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      /getting config 127\.0\.0\.1:\d+\/ns\/base@sha256:c{64}: larger than 4194304 bytes, the cap on manifests and configs \(raise it with --max-manifest-size or the build request's maxManifestBytes\)/,
    );
    expect(failure(c).name).toBe('ImageDocumentLimitError');
    expect(served.configGets).toBe(1);
    // At most the cap was read; what the server wrote beyond it sat in socket buffers. The
    // whole-blob cap (256 MiB) would have let 64 times as much through.
    expect(served.bytes).toBeLessThan(4 * 1024 * 1024 + 32 * 1024 * 1024);
    expect(served.bytes).toBeGreaterThanOrEqual(4 * 1024 * 1024);
  });

  it('--max-manifest-size lowers the cap for manifests too', async () => {
    const served = { bytes: 0, configGets: 0 };
    const registry = await endlessConfigRegistry(served);
    const c = harness.newCase('small-manifest-cap');
    const run = await c.run([
      '--manifest-dir',
      MANIFESTS,
      '--from',
      `${registry.host}/ns/base:v1`,
      '--to',
      `${registry.host}/ns/img:v1`,
      '--insecure',
      '--max-manifest-size',
      '100',
      '--store',
      c.store,
    ]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      /getting manifest 127\.0\.0\.1:\d+\/ns\/base:v1: larger than 100 bytes, the cap on manifests and configs \(raise it with --max-manifest-size/,
    );
    expect(failure(c).name).toBe('ImageDocumentLimitError');
    expect(served.configGets).toBe(0);
  });
});
