// Hostile input, class "address guard gaps": DNS rebinding. A registry sends us to a name
// (token realm, blob redirect, upload Location) whose DNS answers a harmless address to the
// guard's check and the metadata address (169.254.169.254) to every later question. With
// the addresses pinned per transport, the connection goes to the address that was checked
// and the name is asked once; a transport that meets the name only after it rebound refuses
// it, named (RegistryAddressRefusedError). DNS is real: a UDP server in test/support answers,
// and the client resolves through it (dnsServerResolveAll) instead of the system resolver.
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dnsServerResolveAll } from '../../lib/registry/address-guard.js';
import { RegistryClient } from '../../lib/registry/registry-client.js';
import { type DnsServer, startDnsServer } from '../support/dns-server.js';
import { type HostileServer, startHostileServer } from '../support/hostile-server.js';

const TOKEN = 'rebind-token-4b5c6d7e8f';
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:x', size: 2 },
  layers: [],
});
const BLOB = Buffer.from('a blob behind a redirect');
const BLOB_DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}`;

/**
 * Names that rebind: the first A answer is the registry's own address, every later one
 * another: the metadata address, or another internal address (127.0.0.2, where nothing
 * listens — the connect-time check alone let internal addresses through).
 */
const REBINDING: Record<string, string> = {
  'realm.rebind.test': '169.254.169.254',
  'cdn.rebind.test': '127.0.0.2',
  'upload.rebind.test': '127.0.0.2',
};
/** The token realm's host name the registry names in its challenge (set per case). */
let realmName = 'realm.stable.test';
let dns: DnsServer;
let registry: HostileServer;
const clients: RegistryClient[] = [];

beforeAll(async () => {
  dns = await startDnsServer((name, type, n) => {
    if (type !== 'A') return [];
    if (name === 'realm.stable.test') return ['127.0.0.1'];
    const later = REBINDING[name];
    if (!later) return [];
    return n === 1 ? ['127.0.0.1'] : [later];
  });
  registry = await startHostileServer(async (req, res) => {
    const port = registry.host.split(':')[1];
    const url = req.url ?? '/';
    if (url.startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: TOKEN, expires_in: 300 }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}` && !url.startsWith('/cdn/')) {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${realmName}:${port}/token",service="rebind"`,
      });
      res.end();
      return;
    }
    if (url === '/v2/') {
      res.writeHead(200).end('{}');
    } else if (url.startsWith('/v2/ns/img/manifests/')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      res.end(MANIFEST);
    } else if (url === `/v2/ns/img/blobs/${BLOB_DIGEST}` && req.method === 'GET') {
      res.writeHead(307, { location: `http://cdn.rebind.test:${port}/cdn/blob` }).end();
    } else if (url === '/cdn/blob') {
      res.writeHead(200).end(BLOB);
    } else if (url.startsWith('/v2/ns/img/blobs/sha256:') && req.method === 'HEAD') {
      res.writeHead(404).end();
    } else if (url === '/v2/ns/img/blobs/uploads/' && req.method === 'POST') {
      res.writeHead(202, { location: `http://upload.rebind.test:${port}/v2/ns/img/up/1` }).end();
    } else if (url.startsWith('/v2/ns/img/up/1') && req.method === 'PUT') {
      for await (const _ of req) {
        // drain the upload
      }
      res.writeHead(201, { 'docker-content-digest': BLOB_DIGEST }).end();
    } else {
      res.writeHead(404).end();
    }
  });
});
afterEach(async () => {
  realmName = 'realm.stable.test';
  for (const c of clients.splice(0)) await c.close();
});
afterAll(async () => {
  await registry?.stop();
  await dns?.stop();
});

function client(): RegistryClient {
  const c = new RegistryClient({
    insecure: true,
    retry: { retries: 0 },
    resolveAll: dnsServerResolveAll([dns.address]),
  });
  clients.push(c);
  return c;
}

const hostOf = (name: string) => `${name}:${registry.host.split(':')[1]}`;
const reached = (name: string) =>
  registry.requests.filter((r) => r.headers.host === hostOf(name)).length;

describe('DNS rebinding: the connection goes to the address that was checked', () => {
  it('a token realm: asked once, the token fetched from the checked address; later, refused', async () => {
    realmName = 'realm.rebind.test';
    const first = client();
    const manifest = await first.getManifest({
      registry: registry.host,
      repository: 'ns/img',
      tag: 'v1',
    });
    expect(Buffer.from(manifest.bytes).toString()).toBe(MANIFEST);
    expect(reached('realm.rebind.test')).toBe(1);
    expect(dns.count('realm.rebind.test', 'A')).toBe(1);

    // A transport that meets the name after it rebound: refused by the guard, by name.
    const err = await client()
      .getManifest({ registry: registry.host, repository: 'ns/img', tag: 'v2' })
      .catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('RegistryAddressRefusedError');
    expect((err as Error).message).toMatch(
      /getting token for 127\.0\.0\.1:\d+: refusing to follow the registry to realm\.rebind\.test:\d+, a link-local address by resolution/,
    );
    expect((err as Error).message).not.toContain(TOKEN);
    expect(reached('realm.rebind.test')).toBe(1);
  });

  it('a blob redirect: followed to the checked address, the name asked once', async () => {
    const bytes = await client().getBlob(registry.host, 'ns/img', BLOB_DIGEST);
    expect(Buffer.from(bytes)).toEqual(BLOB);
    expect(reached('cdn.rebind.test')).toBe(1);
    expect(dns.count('cdn.rebind.test', 'A')).toBe(1);
  });

  it('an upload Location: the PUT goes to the checked address, the name asked once', async () => {
    const outcome = await client().pushBlob(
      registry.host,
      'ns/img',
      { digest: BLOB_DIGEST, size: BLOB.length },
      { body: new Uint8Array(BLOB) },
    );
    expect(outcome).toBe('uploaded');
    expect(
      registry.requests
        .filter((r) => r.headers.host === hostOf('upload.rebind.test'))
        .map((r) => r.method),
    ).toEqual(['PUT']);
    expect(dns.count('upload.rebind.test', 'A')).toBe(1);
  });
});
