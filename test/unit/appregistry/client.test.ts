// The CNR client against our own App Registry server on 127.0.0.1 (a real HTTP server, no
// mocks): the three calls, the token, the endpoint path, bounded parallelism, and every
// failure mode it must turn into a named error — retrying only what a retry can cure.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AppRegistryClient,
  type AppRegistryClientOptions,
} from '../../../lib/appregistry/client.js';
import { decodePackageBlobStrict } from '../../../lib/appregistry/decode.js';
import { AppRegistryUnavailableError } from '../../../lib/appregistry/errors.js';
import {
  type FaultyAppRegistryServer,
  startFaultyAppRegistryServer,
} from '../../support/appregistry-faults.js';

const TOKEN = 'basic c2VjcmV0LXVzZXI6c2VjcmV0LXBhc3N3b3Jk';
const work = mkdtempSync(path.join(tmpdir(), 'appr-client-'));
let server: FaultyAppRegistryServer;
const sleeps: number[] = [];
const clients: AppRegistryClient[] = [];

function client(options: AppRegistryClientOptions & { retries?: number } = {}): AppRegistryClient {
  const { retries, ...rest } = options;
  const c = new AppRegistryClient({
    endpoint: server.url,
    token: TOKEN,
    ...rest,
    retry: {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      ...(retries === undefined ? {} : { retries }),
    },
  });
  clients.push(c);
  return c;
}

async function caught(p: Promise<unknown>): Promise<Error & { temporary?: boolean }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  for (const [name, version] of [
    ['alpha-operator', '1.2.3'],
    ['beta-operator', '0.4.0'],
    ['gamma-operator', '2.0.0'],
  ] as const) {
    const dir = path.join(work, 'packages', name, version);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(work, 'packages', name, `${name}.package.yaml`),
      `packageName: ${name}\nchannels:\n- name: stable\n  currentCSV: ${name}.v${version}\ndefaultChannel: stable\n`,
    );
    writeFileSync(
      path.join(dir, `${name}.v${version}.clusterserviceversion.yaml`),
      `kind: ClusterServiceVersion\nmetadata:\n  name: ${name}.v${version}\n`,
    );
  }
  server = await startFaultyAppRegistryServer({
    dir: path.join(work, 'packages'),
    org: 'acme',
    token: TOKEN,
  });
});
afterEach(async () => {
  server.faults.length = 0;
  sleeps.length = 0;
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('AppRegistryClient', () => {
  it('lists, shows the default release and pulls a verified blob under the endpoint path', async () => {
    const c = client({ endpoint: `${server.url}/` });
    const listed = await c.listPackages('acme');
    expect(listed.map((p) => [p.fullName, p.repository, p.defaultRelease])).toEqual([
      ['acme/alpha-operator', 'alpha-operator', '1.2.3'],
      ['acme/beta-operator', 'beta-operator', '0.4.0'],
      ['acme/gamma-operator', 'gamma-operator', '2.0.0'],
    ]);
    const shown = await c.showRelease('acme', 'beta-operator', '0.4.0');
    expect(shown.digest).toBe(server.packages.get('beta-operator')!.digest);
    const progress: number[] = [];
    const blob = await c.pullBlob('acme', 'beta-operator', `sha256:${shown.digest}`, {
      ...(shown.size === undefined ? {} : { expectedSize: shown.size }),
      onProgress: (n) => progress.push(n),
    });
    expect(progress.at(-1)).toBe(blob.length);
    expect(decodePackageBlobStrict(blob, 'beta-operator').files.map((f) => f.path)).toEqual([
      'beta-operator/0.4.0/beta-operator.v0.4.0.clusterserviceversion.yaml',
      'beta-operator/beta-operator.package.yaml',
    ]);
    expect(await c.listPackages('someone-else')).toEqual([]);
  });

  it('a wrong token → AppRegistryAuthError with the status line and never the token', async () => {
    const err = await caught(client({ token: 'basic d3Jvbmc6d3Jvbmc=' }).listPackages('acme'));
    expect(err.name).toBe('AppRegistryAuthError');
    expect(err.message).toBe(
      `listing packages of org acme at ${server.url}: 401 UNAUTHORIZED Unauthorized access`,
    );
    expect(err.message).not.toContain('d3Jvbmc6d3Jvbmc');
    expect(err.temporary).toBe(false);
    const none = await caught(client({ token: '' }).listPackages('acme'));
    expect(none.name).toBe('AppRegistryAuthError');
  });

  it('a listing with a name that is not <namespace>/<repository> → AppRegistryProtocolError', async () => {
    server.faults.push({ on: 'list', badName: 'no-slash-here' });
    const err = await caught(client().listPackages('acme'));
    expect(err.name).toBe('AppRegistryProtocolError');
    expect(err.message).toContain(
      'package name should be specified in this format {namespace}/{repository}, got "no-slash-here"',
    );
    server.faults.push({ on: 'list', badName: 'a/b/c' });
    server.faults.shift();
    expect((await caught(client().listPackages('acme'))).name).toBe('AppRegistryProtocolError');
  });

  it('a non-JSON 2xx to a JSON call → AppRegistryProtocolError', async () => {
    server.faults.push({ on: 'list', body: '<html>captive portal</html>' });
    const err = await caught(client().listPackages('acme'));
    expect(err.name).toBe('AppRegistryProtocolError');
    expect(err.message).toMatch(/expected a JSON response, got "text\/html"/);
  });

  it('unknown release → AppRegistryNotFoundError; a wrong digest in the show response → 404 on the pull', async () => {
    const c = client();
    expect((await caught(c.showRelease('acme', 'alpha-operator', '9.9.9'))).name).toBe(
      'AppRegistryNotFoundError',
    );
    server.faults.push({ on: 'show', wrongDigest: true });
    const shown = await c.showRelease('acme', 'alpha-operator', '1.2.3');
    const err = await caught(c.pullBlob('acme', 'alpha-operator', shown.digest));
    expect(err.name).toBe('AppRegistryNotFoundError');
    expect(err.message).toMatch(
      /^pulling blob sha256:[0-9a-f]{64} of acme\/alpha-operator at http:\/\/127\.0\.0\.1:\d+\/cnr: 404 NOT FOUND/,
    );
    // An endpoint without the /cnr path reaches nothing.
    const wrongPath = client({ endpoint: server.url.replace(/\/cnr$/, '') });
    expect((await caught(wrongPath.listPackages('acme'))).name).toBe('AppRegistryNotFoundError');
  });

  it('bytes that do not hash to the digest → AppRegistryDigestMismatchError, not retried', async () => {
    const pkg = server.packages.get('gamma-operator')!;
    server.faults.push({ on: 'blob', corruptBody: true });
    const before = server.requests.blob;
    const err = await caught(client().pullBlob('acme', 'gamma-operator', pkg.digest));
    expect(err.name).toBe('AppRegistryDigestMismatchError');
    expect(err.message).toContain(`received ${pkg.size} bytes hashing to sha256:`);
    expect(server.requests.blob - before).toBe(1);
  });

  it('retries 503/429 with backoff, honouring Retry-After, then succeeds', async () => {
    server.faults.push(
      { on: 'list', status: 503, times: 2 },
      { on: 'list', status: 429, retryAfter: '3', times: 1 },
    );
    const before = server.requests.list;
    const c = client();
    expect(await c.listPackages('acme')).toHaveLength(3);
    expect(server.requests.list - before).toBe(4);
    // Symmetric jitter with random()=0.5 is the midpoint: 500 ms, 1000 ms; then Retry-After 3 s.
    expect(sleeps).toEqual([500, 1000, 3000]);
    expect(c.stats.retries).toBe(3);
  });

  it('gives up after the retries with a temporary AppRegistryUnavailableError', async () => {
    server.faults.push({ on: 'show', status: 502 });
    const before = server.requests.show;
    const err = await caught(client({ retries: 2 }).showRelease('acme', 'alpha-operator', '1.2.3'));
    expect(err.name).toBe('AppRegistryUnavailableError');
    expect(err.temporary).toBe(true);
    expect(err.message).toBe(
      `showing release 1.2.3 of acme/alpha-operator at ${server.url}: 502 BAD GATEWAY Injected status 502`,
    );
    expect(server.requests.show - before).toBe(3);
  });

  it('does not sleep through a Retry-After longer than it is willing to wait', async () => {
    server.faults.push({ on: 'list', status: 429, retryAfter: '3600' });
    const err = await caught(client().listPackages('acme'));
    expect(err.name).toBe('AppRegistryUnavailableError');
    expect(err.message).toMatch(/Retry-After 3600 s is longer than we wait/);
    expect(sleeps).toEqual([]);
  });

  it('retries connection resets and bodies cut short, then gets the verified blob', async () => {
    const pkg = server.packages.get('alpha-operator')!;
    server.faults.push(
      { on: 'blob', reset: true, times: 1 },
      { on: 'blob', truncateAt: 100, times: 1 },
    );
    const before = server.requests.blob;
    const blob = await client().pullBlob('acme', 'alpha-operator', pkg.digest);
    expect(blob.length).toBe(pkg.size);
    expect(server.requests.blob - before).toBe(3);
    server.faults.push({ on: 'list', reset: true });
    const err = await caught(client({ retries: 1 }).listPackages('acme'));
    expect(err.name).toBe('AppRegistryUnavailableError');
    expect(err.message).toMatch(/^listing packages of org acme at .*: connection failed: /);
  });

  it('a body that stalls past the body timeout is a temporary failure', async () => {
    const pkg = server.packages.get('alpha-operator')!;
    server.faults.push({ on: 'blob', stallBodyMs: 1500 });
    const err = await caught(
      client({ retries: 0, timeouts: { bodyMs: 200 } }).pullBlob(
        'acme',
        'alpha-operator',
        pkg.digest,
      ),
    );
    expect(err.name).toBe('AppRegistryTimeoutError');
    expect(err).toBeInstanceOf(AppRegistryUnavailableError);
    expect(err.message).toMatch(
      /stopped sending the body within the idle timeout \(200 ms; raise it with --idle-timeout or the build request's timeouts\.bodyMs\)/,
    );
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    server.faults.push({ on: 'show', delayMs: 100 });
    server.requests.maxInFlight = 0;
    const c = client({ concurrency: 2 });
    const shown = await Promise.all(
      Array.from({ length: 6 }, () => c.showRelease('acme', 'alpha-operator', '1.2.3')),
    );
    expect(shown).toHaveLength(6);
    expect(server.requests.maxInFlight).toBe(2);
  });

  it('rejects unusable endpoints and names before sending anything', () => {
    expect(() => new AppRegistryClient({ endpoint: 'not a url' })).toThrowError(
      expect.objectContaining({ name: 'UsageError' }),
    );
    expect(() => new AppRegistryClient({ endpoint: 'ftp://quay.io/cnr' })).toThrowError(
      expect.objectContaining({ name: 'UsageError' }),
    );
    expect(new AppRegistryClient({ endpoint: 'https://user:pw@quay.io/cnr/' }).endpoint).toBe(
      'https://quay.io/cnr',
    );
  });
});
