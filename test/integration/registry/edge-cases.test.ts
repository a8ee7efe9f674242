// Protocol edges the real docker-registry will not produce, against an in-process node:http
// fake: 429 with Retry-After, 5xx then success, connection resets, a mount answered 202 with a
// relative Location, a token lacking a scope, `access_token`, redirects to another origin and
// a blob whose bytes do not match its digest. Sleeps are injected and recorded, never waited.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ResolveAll, systemResolveAll } from '../../../lib/registry/address-guard.js';
import { formatChallenges } from '../../../lib/registry/challenge.js';
import { AuthFileKeychain } from '../../../lib/registry/keychain.js';
import { RegistryClient, sha256Digest } from '../../../lib/registry/registry-client.js';
import { rejection } from './rejection.js';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: Buffer;
}

type Handler = (req: Seen, res: http.ServerResponse) => void;

interface Fake {
  host: string;
  origin: string;
  seen: Seen[];
  stop(): Promise<void>;
}

const fakes: Fake[] = [];

async function startFake(handler: Handler): Promise<Fake> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        body: Buffer.concat(chunks),
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fake = {
    host,
    origin: `http://${host}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  fakes.push(fake);
  return fake;
}

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

function recordingRetry(sleeps: number[], retries = 3) {
  return {
    retries,
    baseDelayMs: 1000,
    factor: 3,
    jitter: 0.2,
    random: () => 0.5,
    sleep: async (ms: number) => void sleeps.push(ms),
  };
}

const MANIFEST = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json' }),
);
const MANIFEST_DIGEST = sha256Digest(MANIFEST);

function answerManifest(res: http.ServerResponse) {
  res.writeHead(200, {
    'content-type': 'application/vnd.oci.image.manifest.v1+json',
    'docker-content-digest': MANIFEST_DIGEST,
  });
  res.end(MANIFEST);
}

describe('retries', () => {
  it('honours Retry-After (seconds) on 429 and then succeeds', async () => {
    let n = 0;
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      if (n++ === 0) {
        res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }),
        );
      }
      answerManifest(res);
    });
    const sleeps: number[] = [];
    const client = new RegistryClient({ insecure: true, retry: recordingRetry(sleeps) });
    const m = await client.getManifest({ registry: fake.host, repository: 'a/b', tag: 't' });
    expect(m.digest).toBe(MANIFEST_DIGEST);
    expect(sleeps).toEqual([7000]);
    await client.close();
  });

  it('honours Retry-After as an HTTP date', async () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    let n = 0;
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      if (n++ === 0)
        return void res.writeHead(503, { 'retry-after': 'Mon, 01 Jan 2024 00:00:12 GMT' }).end();
      answerManifest(res);
    });
    const sleeps: number[] = [];
    const client = new RegistryClient({
      insecure: true,
      retry: { ...recordingRetry(sleeps), now: () => now },
    });
    await client.getManifest({ registry: fake.host, repository: 'a/b', tag: 't' });
    expect(sleeps).toEqual([12_000]);
    await client.close();
  });

  it('backs off exponentially on 5xx and gives up with a temporary RegistryUnavailableError', async () => {
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      res.writeHead(502).end('bad gateway');
    });
    const sleeps: number[] = [];
    const client = new RegistryClient({ insecure: true, retry: recordingRetry(sleeps, 3) });
    const err = await rejection(
      client.blobExists(fake.host, 'a/b', sha256Digest(Buffer.from('x'))),
    );
    expect(err).toMatchObject({ name: 'RegistryUnavailableError', temporary: true, status: 502 });
    expect(sleeps).toEqual([1000, 3000, 9000]);
    expect(fake.seen.filter((s) => s.method === 'HEAD')).toHaveLength(4);
    await client.close();
  });

  it('retries 5xx then succeeds', async () => {
    let n = 0;
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      if (n++ < 2) return void res.writeHead(n === 1 ? 500 : 504).end();
      answerManifest(res);
    });
    const sleeps: number[] = [];
    const client = new RegistryClient({ insecure: true, retry: recordingRetry(sleeps) });
    expect(
      (await client.getManifest({ registry: fake.host, repository: 'a/b', tag: 't' })).digest,
    ).toBe(MANIFEST_DIGEST);
    expect(sleeps).toEqual([1000, 3000]);
    await client.close();
  });

  it('retries a connection reset', async () => {
    let n = 0;
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      if (n++ === 0) return void res.socket?.destroy();
      answerManifest(res);
    });
    const sleeps: number[] = [];
    const client = new RegistryClient({ insecure: true, retry: recordingRetry(sleeps) });
    expect(
      (await client.getManifest({ registry: fake.host, repository: 'a/b', tag: 't' })).digest,
    ).toBe(MANIFEST_DIGEST);
    expect(sleeps).toHaveLength(1);
    await client.close();
  });

  it('does not retry a 400', async () => {
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid', detail: {} }],
        }),
      );
    });
    const sleeps: number[] = [];
    const client = new RegistryClient({ insecure: true, retry: recordingRetry(sleeps) });
    const err = await rejection(
      client.putManifest(
        { registry: fake.host, repository: 'a/b', tag: 't' },
        MANIFEST,
        'application/vnd.oci.image.manifest.v1+json',
      ),
    );
    expect(err).toMatchObject({
      name: 'RegistryProtocolError',
      status: 400,
      codes: ['MANIFEST_INVALID'],
    });
    expect(err.message).toBe(
      `pushing manifest ${fake.host}/a/b:t: 400 MANIFEST_INVALID manifest invalid`,
    );
    expect(sleeps).toEqual([]);
    await client.close();
  });
});

describe('uploads', () => {
  it('falls back to upload through the Location of a mount answered 202 (relative Location)', async () => {
    const blob = randomBytes(5000);
    const digest = sha256Digest(blob);
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      if (req.method === 'HEAD') return void res.writeHead(404).end();
      if (req.method === 'POST' && req.url.includes('mount=')) {
        return void res
          .writeHead(202, { location: '/v2/dst/repo/blobs/uploads/session-1?_state=abc%3D%3D' })
          .end();
      }
      if (req.method === 'PUT' && req.url.startsWith('/v2/dst/repo/blobs/uploads/session-1?')) {
        return void res.writeHead(201, { location: `/v2/dst/repo/blobs/${digest}` }).end();
      }
      res.writeHead(500).end();
    });
    const client = new RegistryClient({ insecure: true, retry: { retries: 0 } });
    const outcome = await client.pushBlob(
      fake.host,
      'dst/repo',
      { digest, size: blob.length },
      { body: blob, mountFrom: 'src/repo' },
    );
    expect(outcome).toBe('uploaded');
    const put = fake.seen.find((s) => s.method === 'PUT')!;
    expect(put.url).toBe(
      `/v2/dst/repo/blobs/uploads/session-1?_state=abc%3D%3D&digest=${encodeURIComponent(digest)}`,
    );
    expect(put.body.equals(blob)).toBe(true);
    // No second POST: the session the mount opened was used.
    expect(fake.seen.filter((s) => s.method === 'POST')).toHaveLength(1);
    await client.close();
  });

  it('follows an absolute Location on another origin for the PUT', async () => {
    const blob = randomBytes(100);
    const digest = sha256Digest(blob);
    const storage = await startFake((req, res) => {
      res.writeHead(req.method === 'PUT' ? 201 : 500).end();
    });
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      if (req.method === 'POST')
        return void res.writeHead(202, { location: `${storage.origin}/upload/xyz` }).end();
      res.writeHead(500).end();
    });
    const client = new RegistryClient({ insecure: true, retry: { retries: 0 } });
    await client.uploadBlob(fake.host, 'a/b', digest, blob.length, blob);
    expect(storage.seen.map((s) => s.url)).toEqual([
      `/upload/xyz?digest=${encodeURIComponent(digest)}`,
    ]);
    await client.close();
  });

  it('restarts the whole upload after a temporary failure, with a fresh stream', async () => {
    const blob = randomBytes(1000);
    const digest = sha256Digest(blob);
    let puts = 0;
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      if (req.method === 'POST')
        return void res
          .writeHead(202, { location: `/v2/a/b/blobs/uploads/s${fake.seen.length}` })
          .end();
      if (req.method === 'PUT') return void res.writeHead(puts++ === 0 ? 503 : 201).end();
      res.writeHead(500).end();
    });
    const sleeps: number[] = [];
    let streams = 0;
    const client = new RegistryClient({ insecure: true, retry: recordingRetry(sleeps) });
    await client.uploadBlob(fake.host, 'a/b', digest, blob.length, () => {
      streams++;
      return (async function* () {
        yield blob;
      })();
    });
    expect(streams).toBe(2);
    expect(fake.seen.filter((s) => s.method === 'POST')).toHaveLength(2);
    expect(fake.seen.filter((s) => s.method === 'PUT').every((s) => s.body.equals(blob))).toBe(
      true,
    );
    await client.close();
  });
});

describe('bearer tokens', () => {
  it('refreshes a token lacking a scope with the scope added, and reads access_token', async () => {
    const tokenRequests: string[][] = [];
    const auth = await startFake((req, res) => {
      const scopes = new URL(req.url, 'http://x').searchParams.getAll('scope');
      tokenRequests.push(scopes);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: `tok-${scopes.join('+')}`, expires_in: 300 }));
    });
    const challenge = (extra: Record<string, string> = {}) =>
      formatChallenges([
        { scheme: 'Bearer', params: { realm: `${auth.origin}/token`, service: 'fake', ...extra } },
      ]);
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/')
        return void res.writeHead(401, { 'www-authenticate': challenge() }).end();
      // This registry wants the caller to also hold pull on "other/repo" (as a mount would).
      const need = 'repository:other/repo:pull';
      if (!req.authorization?.includes(need)) {
        return void res
          .writeHead(401, {
            'www-authenticate': challenge({ scope: need, error: 'insufficient_scope' }),
          })
          .end();
      }
      answerManifest(res);
    });
    const keychain = new AuthFileKeychain({
      auths: { [fake.host]: { username: 'u', password: 'p-secret' } },
    });
    const client = new RegistryClient({ keychain, insecure: true, retry: { retries: 0 } });
    const m = await client.getManifest({ registry: fake.host, repository: 'a/b', tag: 't' });
    expect(m.digest).toBe(MANIFEST_DIGEST);
    expect(tokenRequests).toEqual([
      ['repository:a/b:pull'],
      ['repository:a/b:pull', 'repository:other/repo:pull'],
    ]);
    // Basic credentials went to the realm only, never to the registry.
    expect(
      auth.seen.every(
        (s) => s.authorization === `Basic ${Buffer.from('u:p-secret').toString('base64')}`,
      ),
    ).toBe(true);
    expect(fake.seen.every((s) => !s.authorization || s.authorization.startsWith('Bearer '))).toBe(
      true,
    );
    await client.close();
  });

  it('exchanges an identity token (refresh-token grant) by POST at the realm', async () => {
    const auth = await startFake((req, res) => {
      const form = new URLSearchParams(req.body.toString('utf8'));
      const ok =
        req.method === 'POST' &&
        form.get('grant_type') === 'refresh_token' &&
        form.get('refresh_token') === 'idt-1';
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { access_token: `at-${form.get('scope')}` } : {}));
    });
    const fake = await startFake((req, res) => {
      const challenge = `Bearer realm="${auth.origin}/oauth",service="fake"`;
      if (req.url === '/v2/' || req.authorization !== 'Bearer at-repository:a/b:pull') {
        return void res.writeHead(401, { 'www-authenticate': challenge }).end();
      }
      answerManifest(res);
    });
    const keychain = new AuthFileKeychain({ auths: { [fake.host]: { identitytoken: 'idt-1' } } });
    const client = new RegistryClient({ keychain, insecure: true, retry: { retries: 0 } });
    expect(
      (await client.getManifest({ registry: fake.host, repository: 'a/b', tag: 't' })).digest,
    ).toBe(MANIFEST_DIGEST);
    expect(auth.seen.map((s) => s.method)).toEqual(['POST']);
    await client.close();
  });

  it('drops Authorization when a blob GET redirects to another origin', async () => {
    const blob = randomBytes(2000);
    const digest = sha256Digest(blob);
    const cdn = await startFake((_req, res) => {
      res.writeHead(200).end(blob);
    });
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/')
        return void res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
      res.writeHead(307, { location: `${cdn.origin}/blob?sig=abc` }).end();
    });
    const keychain = new AuthFileKeychain({
      auths: { [fake.host]: { auth: Buffer.from('u:pw').toString('base64') } },
    });
    const client = new RegistryClient({ keychain, insecure: true, retry: { retries: 0 } });
    const got = await client.getBlob(fake.host, 'a/b', digest);
    expect(Buffer.from(got).equals(blob)).toBe(true);
    expect(fake.seen.at(-1)?.authorization).toMatch(/^Basic /);
    expect(cdn.seen[0]?.authorization).toBeUndefined();
    await client.close();
  });
});

describe('verification', () => {
  it('fails a blob whose bytes do not hash to its digest', async () => {
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      res.writeHead(200).end(Buffer.from('not what you asked for'));
    });
    const client = new RegistryClient({ insecure: true, retry: { retries: 0 } });
    const digest = sha256Digest(Buffer.from('the real content'));
    await expect(client.getBlob(fake.host, 'a/b', digest)).rejects.toMatchObject({
      name: 'RegistryDigestMismatchError',
    });
    await client.close();
  });

  it('fails a manifest whose bytes do not match Docker-Content-Digest', async () => {
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'docker-content-digest': sha256Digest(Buffer.from('x')),
      });
      res.end(MANIFEST);
    });
    const client = new RegistryClient({ insecure: true, retry: { retries: 0 } });
    await expect(
      client.getManifest({ registry: fake.host, repository: 'a/b', tag: 't' }),
    ).rejects.toMatchObject({
      name: 'RegistryDigestMismatchError',
    });
    await client.close();
  });
});

describe('parallelism', () => {
  it('never runs more than maxPerRegistry operations at once on one registry', async () => {
    let active = 0;
    let peak = 0;
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      active++;
      peak = Math.max(peak, active);
      // Hold each answer a little so overlapping requests would be visible.
      setTimeout(() => {
        active--;
        res.writeHead(404).end();
      }, 20);
    });
    const client = new RegistryClient({ insecure: true, maxPerRegistry: 2, retry: { retries: 0 } });
    const digests = Array.from({ length: 10 }, (_, i) => sha256Digest(Buffer.from(String(i))));
    const results = await Promise.all(digests.map((d) => client.blobExists(fake.host, 'a/b', d)));
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBeGreaterThanOrEqual(1);
    await client.close();
  });
});

describe('where a registry may send us', () => {
  it('refuses a token realm on a link-local address (cloud metadata) without calling it', async () => {
    const fake = await startFake((_req, res) => {
      res
        .writeHead(401, {
          'www-authenticate': formatChallenges([
            {
              scheme: 'Bearer',
              params: { realm: 'http://169.254.169.254/latest/token', service: 's' },
            },
          ]),
        })
        .end();
    });
    const client = new RegistryClient({ insecure: true, retry: { retries: 0 } });
    const err = await rejection(
      client.getManifest({ registry: fake.host, repository: 'a/b', tag: 'v1' }),
    );
    expect(err.name).toBe('RegistryAddressRefusedError');
    expect(err.message).toMatch(
      /refusing to follow the registry to 169\.254\.169\.254, a link-local address/,
    );
    await client.close();
  });

  it('refuses a redirect to a link-local address', async () => {
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    });
    const client = new RegistryClient({ insecure: true, retry: { retries: 0 } });
    const digest = sha256Digest(Buffer.from('x'));
    const err = await rejection(client.getBlob(fake.host, 'a/b', digest));
    expect(err.message).toMatch(
      /^getting blob .*: refusing to follow the registry to 169\.254\.169\.254/,
    );
    await client.close();
  });

  // An edge fake for DNS only: these names resolve to metadata addresses, every other name
  // (localhost included) goes to the system resolver; the servers and sockets are real.
  const metadataDns: ResolveAll = async (name) => {
    const table: Record<string, string[]> = {
      'metadata.google.internal': ['169.254.169.254'],
      'mapped.test': ['::ffff:a9fe:a9fe'],
      'nat64.test': ['64:ff9b::169.254.169.254'],
      'ec2-v6.test': ['fd00:ec2::254'],
    };
    const found = table[name];
    return found
      ? found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
      : systemResolveAll(name);
  };

  function bearerRegistry(realm: string) {
    return startFake((_req, res) => {
      res
        .writeHead(401, {
          'www-authenticate': formatChallenges([
            { scheme: 'Bearer', params: { realm, service: 's' } },
          ]),
        })
        .end();
    });
  }

  it.each([
    ['metadata.google.internal', 'http://metadata.google.internal/computeMetadata/v1/token'],
    ['an IPv4-mapped name', 'http://mapped.test/token'],
    ['a NAT64 name', 'http://nat64.test/token'],
    ['an EC2 IPv6 metadata name', 'http://ec2-v6.test/token'],
  ])('refuses a token realm that resolves to a metadata address: %s', async (_what, realm) => {
    const fake = await bearerRegistry(realm);
    const sleeps: number[] = [];
    const client = new RegistryClient({
      insecure: true,
      retry: recordingRetry(sleeps),
      resolveAll: metadataDns,
    });
    const err = await rejection(
      client.getManifest({ registry: fake.host, repository: 'a/b', tag: 'v1' }),
    );
    expect(err.name).toBe('RegistryAddressRefusedError');
    expect(err.message).toMatch(
      /^getting token for 127\.0\.0\.1:\d+: refusing to follow the registry to [\w.-]+, a link-local address by resolution/,
    );
    expect(sleeps).toEqual([]);
    await client.close();
  });

  it('refuses a file:// realm at once as a permanent RegistryRealmSchemeError', async () => {
    const fake = await bearerRegistry('file:///etc/passwd');
    const sleeps: number[] = [];
    const client = new RegistryClient({ insecure: true, retry: recordingRetry(sleeps) });
    const err = await rejection(
      client.getManifest({ registry: fake.host, repository: 'a/b', tag: 'v1' }),
    );
    expect(err.name).toBe('RegistryRealmSchemeError');
    expect(err.message).toMatch(/^getting token for 127\.0\.0\.1:\d+: realm scheme file: is not/);
    expect((err as Error & { temporary?: boolean }).temporary).toBe(false);
    // One attempt: no retry sleeps, and the registry was asked once (the ping that gave the
    // challenge); before, the realm failed as a temporary network error and was retried.
    expect(sleeps).toEqual([]);
    expect(fake.seen.map((s) => s.url)).toEqual(['/v2/']);
    await client.close();
  });

  it('refuses a redirect to a name that resolves to a NAT64 form of the metadata address', async () => {
    const fake = await startFake((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end();
      res.writeHead(307, { location: 'http://nat64.test/latest/meta-data/' }).end();
    });
    const client = new RegistryClient({
      insecure: true,
      retry: { retries: 0 },
      resolveAll: metadataDns,
    });
    const err = await rejection(client.getBlob(fake.host, 'a/b', sha256Digest(Buffer.from('x'))));
    expect(err.name).toBe('RegistryAddressRefusedError');
    expect(err.message).toMatch(/^getting blob .*: refusing to follow the registry to nat64\.test/);
    await client.close();
  });

  it('refuses at connect time a registry name that resolves to a metadata address', async () => {
    const client = new RegistryClient({
      insecure: true,
      retry: { retries: 2, sleep: async () => undefined },
      resolveAll: metadataDns,
    });
    const err = await rejection(
      client.getManifest({
        registry: 'metadata.google.internal:5000',
        repository: 'a/b',
        tag: 'v1',
      }),
    );
    expect(err.name).toBe('RegistryAddressRefusedError');
    expect(err.message).toMatch(
      /connecting to metadata\.google\.internal: refusing 169\.254\.169\.254/,
    );
    await client.close();
  });

  it('lets a loopback registry use a loopback realm named localhost', async () => {
    const auth = await startFake((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: 't0ken-for-loopback' }));
    });
    const port = auth.host.split(':')[1];
    const fake = await startFake((req, res) => {
      if (req.authorization === 'Bearer t0ken-for-loopback') return answerManifest(res);
      res
        .writeHead(401, {
          'www-authenticate': formatChallenges([
            { scheme: 'Bearer', params: { realm: `http://localhost:${port}/token`, service: 's' } },
          ]),
        })
        .end();
    });
    const client = new RegistryClient({ insecure: true, retry: { retries: 0 } });
    const m = await client.getManifest({ registry: fake.host, repository: 'a/b', tag: 'v1' });
    expect(m.digest).toBe(MANIFEST_DIGEST);
    expect(auth.seen.length).toBe(1);
    await client.close();
  });
});
