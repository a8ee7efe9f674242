// The registry client against Debian's docker-registry in each variant (plain, htpasswd, TLS,
// token auth) and against ECR's token API through the real SDK: blobs and manifests round-trip,
// mounts, wrong credentials and scopes fail with the right error, and skopeo reads back what
// we pushed.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcrKeychain } from '../../../lib/registry/ecr-keychain.js';
import { AuthFileKeychain, loadKeychain } from '../../../lib/registry/keychain.js';
import {
  RegistryClient,
  sha256Digest,
  type UploadProgress,
} from '../../../lib/registry/registry-client.js';
import { RegistryAuthError } from '../../../lib/registry/registry-errors.js';
import { startEcrFake } from '../../support/ecr-fake.js';
import { type RegistryServer, startRegistry } from '../../support/registry-server.js';
import { rejection } from './rejection.js';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const noSleep = { retries: 2, sleep: async () => {} };

interface TestImage {
  config: Uint8Array;
  layer: Uint8Array;
  manifest: Uint8Array;
  mediaType: string;
}

function makeImage(layerSize = 4096, mediaType = DOCKER_MANIFEST): TestImage {
  const layer = new Uint8Array(randomBytes(layerSize));
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha256Digest(layer)] },
    }),
  );
  const oci = mediaType === OCI_MANIFEST;
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: {
        mediaType: oci
          ? 'application/vnd.oci.image.config.v1+json'
          : 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: sha256Digest(config),
      },
      layers: [
        {
          mediaType: oci
            ? 'application/vnd.oci.image.layer.v1.tar'
            : 'application/vnd.docker.image.rootfs.diff.tar',
          size: layer.length,
          digest: sha256Digest(layer),
        },
      ],
    }),
  );
  return { config, layer, manifest, mediaType };
}

/** What pushImage's blob pushes answered, in order (layer, config). */
const pushed: string[] = [];

async function pushImage(
  client: RegistryClient,
  host: string,
  repository: string,
  tag: string,
  img: TestImage,
) {
  for (const blob of [img.layer, img.config]) {
    pushed.push(
      await client.pushBlob(
        host,
        repository,
        { digest: sha256Digest(blob), size: blob.length },
        { body: blob },
      ),
    );
  }
  return client.putManifest({ registry: host, repository, tag }, img.manifest, img.mediaType);
}

/** A blob's bytes, opened lazily as push-image's blob opener does. */
async function* streamOf(client: RegistryClient, host: string, repository: string, digest: string) {
  yield* (await client.getBlobStream(host, repository, digest)) as AsyncIterable<Uint8Array>;
}

function skopeoRaw(ref: string, extra: string[] = []): string {
  return execFileSync(
    'skopeo',
    ['inspect', '--raw', '--tls-verify=false', ...extra, `docker://${ref}`],
    {
      encoding: 'utf8',
    },
  );
}

describe('plain registry', () => {
  let reg: RegistryServer;
  let client: RegistryClient;
  beforeAll(async () => {
    reg = await startRegistry();
    client = new RegistryClient({ insecure: true, retry: noSleep });
  });
  afterAll(async () => {
    await client?.close();
    await reg?.stop();
  });

  it('copies blobs within one registry under a bound of 1 request, the source read included', async () => {
    // The upload's body is a GET from the same registry: with one slot, a copy that took its
    // slot before opening its source would wait on itself forever.
    const one = new RegistryClient({ insecure: true, retry: noSleep, maxPerRegistry: 1 });
    try {
      const img = makeImage(200_000);
      await pushImage(one, reg.host, 'team/copy-src', 'v1', img);
      const outcomes = await Promise.all(
        [img.layer, img.config].map((blob) => {
          const digest = sha256Digest(blob);
          return one.pushBlob(
            reg.host,
            'team/copy-dst',
            { digest, size: blob.length },
            { body: () => Readable.from(streamOf(one, reg.host, 'team/copy-src', digest)) },
          );
        }),
      );
      expect(outcomes).toEqual(['uploaded', 'uploaded']);
      const back = await one.getBlob(reg.host, 'team/copy-dst', sha256Digest(img.layer));
      expect(Buffer.from(back).equals(Buffer.from(img.layer))).toBe(true);
    } finally {
      await one.close();
    }
  });

  it('pushes blobs and a manifest, reads them back, and skopeo sees the same bytes', async () => {
    const img = makeImage();
    pushed.length = 0;
    const digest = await pushImage(client, reg.host, 'team/app', 'v1', img);
    expect(digest).toBe(sha256Digest(img.manifest));
    expect(pushed).toEqual(['uploaded', 'uploaded']);

    const got = await client.getManifest({ registry: reg.host, repository: 'team/app', tag: 'v1' });
    expect(got.digest).toBe(digest);
    expect(got.mediaType).toBe(DOCKER_MANIFEST);
    expect(Buffer.from(got.bytes).equals(Buffer.from(img.manifest))).toBe(true);

    const byDigest = await client.getManifest({
      registry: reg.host,
      repository: 'team/app',
      digest,
    });
    expect(byDigest.digest).toBe(digest);
    const head = await client.headManifest({
      registry: reg.host,
      repository: 'team/app',
      tag: 'v1',
    });
    expect(head).toEqual({ mediaType: DOCKER_MANIFEST, digest, size: img.manifest.length });

    const layer = await client.getBlob(reg.host, 'team/app', sha256Digest(img.layer));
    expect(Buffer.from(layer).equals(Buffer.from(img.layer))).toBe(true);

    expect(skopeoRaw(`${reg.host}/team/app:v1`)).toBe(Buffer.from(img.manifest).toString('utf8'));
  });

  it('keeps OCI manifests as OCI (every type in Accept)', async () => {
    const img = makeImage(1000, OCI_MANIFEST);
    const digest = await pushImage(client, reg.host, 'team/oci', 'v1', img);
    const got = await client.getManifest({ registry: reg.host, repository: 'team/oci', tag: 'v1' });
    expect(got).toMatchObject({ digest, mediaType: OCI_MANIFEST });
  });

  it('skips blobs already present and mounts blobs from another repository', async () => {
    const img = makeImage();
    await pushImage(client, reg.host, 'base/image', 'latest', img);
    const layer = { digest: sha256Digest(img.layer), size: img.layer.length };
    expect(await client.pushBlob(reg.host, 'base/image', layer, { body: img.layer })).toBe(
      'present',
    );
    expect(
      await client.pushBlob(reg.host, 'derived/image', layer, {
        body: img.layer,
        mountFrom: 'base/image',
      }),
    ).toBe('mounted');
    expect(await client.blobExists(reg.host, 'derived/image', layer.digest)).toBe(img.layer.length);
  });

  it('answers undefined for absent blobs and manifests, and NotFound on GET', async () => {
    const missing = sha256Digest(randomBytes(10));
    expect(await client.blobExists(reg.host, 'team/app', missing)).toBeUndefined();
    expect(
      await client.headManifest({ registry: reg.host, repository: 'team/app', tag: 'nope' }),
    ).toBeUndefined();
    await expect(
      client.getManifest({ registry: reg.host, repository: 'team/app', tag: 'nope' }),
    ).rejects.toMatchObject({
      name: 'RegistryNotFoundError',
      status: 404,
      codes: ['MANIFEST_UNKNOWN'],
    });
  });

  it('uploads big blobs in PATCH chunks from a stream, reporting progress', async () => {
    const progress: UploadProgress[] = [];
    const chunky = new RegistryClient({
      insecure: true,
      retry: noSleep,
      chunkedThreshold: 100_000,
      chunkSize: 64 * 1024,
      onProgress: (p) => progress.push(p),
    });
    try {
      const blob = randomBytes(300_000);
      const digest = sha256Digest(blob);
      await chunky.uploadBlob(reg.host, 'team/big', digest, blob.length, () =>
        Readable.from([
          blob.subarray(0, 1234),
          blob.subarray(1234, 200_000),
          blob.subarray(200_000),
        ]),
      );
      expect(await chunky.blobExists(reg.host, 'team/big', digest)).toBe(blob.length);
      expect(progress.at(-1)).toMatchObject({ bytes: blob.length, total: blob.length, digest });
      expect(progress.length).toBeGreaterThan(3);
    } finally {
      await chunky.close();
    }
  });

  it('refuses a manifest whose content does not match the digest it is read by', async () => {
    const img = makeImage();
    const digest = await pushImage(client, reg.host, 'team/verify', 'v1', img);
    const other = makeImage();
    const otherDigest = await pushImage(client, reg.host, 'team/verify', 'v2', other);
    // Asking by digest returns exactly that content; the check fires when a stated digest lies.
    await expect(
      client.putManifest(
        { registry: reg.host, repository: 'team/verify', digest: otherDigest },
        img.manifest,
        DOCKER_MANIFEST,
      ),
    ).rejects.toMatchObject({ name: 'RegistryDigestMismatchError' });
    expect(
      (await client.getManifest({ registry: reg.host, repository: 'team/verify', digest })).digest,
    ).toBe(digest);
  });

  it('does not talk plain HTTP without insecure', async () => {
    const strict = new RegistryClient({ retry: { retries: 0 } });
    try {
      // A TLS client talking to plain HTTP: said with the flag that fixes it, not OpenSSL's text.
      await expect(strict.ping(reg.host)).rejects.toMatchObject({
        name: 'RegistryTlsError',
        message: expect.stringMatching(/pass --insecure/),
      });
    } finally {
      await strict.close();
    }
  });
});

describe('htpasswd registry', () => {
  let reg: RegistryServer;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd' });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('pushes with credentials from an auth file and skopeo reads it back with them', async () => {
    const keychain = await loadKeychain({ authFile: reg.authFile() });
    const client = new RegistryClient({ keychain, insecure: true, retry: noSleep });
    try {
      const img = makeImage();
      const digest = await pushImage(client, reg.host, 'secure/app', 'v1', img);
      const got = await client.getManifest({
        registry: reg.host,
        repository: 'secure/app',
        tag: 'v1',
      });
      expect(got.digest).toBe(digest);
      const raw = skopeoRaw(`${reg.host}/secure/app:v1`, [
        '--creds',
        `${reg.username}:${reg.password}`,
      ]);
      expect(raw).toBe(Buffer.from(img.manifest).toString('utf8'));
    } finally {
      await client.close();
    }
  });

  it('fails with RegistryAuthError on a wrong password, without the password in the message', async () => {
    const keychain = new AuthFileKeychain({
      auths: { [reg.host]: { auth: Buffer.from('tester:wrong-password-42').toString('base64') } },
    });
    const client = new RegistryClient({ keychain, insecure: true, retry: noSleep });
    try {
      const err = await rejection(
        client.putManifest(
          { registry: reg.host, repository: 'secure/app', tag: 'x' },
          makeImage().manifest,
          DOCKER_MANIFEST,
        ),
      );
      expect(err).toMatchObject({ name: 'RegistryAuthError', status: 401 });
      expect(err.message).toMatch(
        new RegExp(`^pushing manifest ${reg.host}/secure/app:x: 401 UNAUTHORIZED`),
      );
      expect(err.message).not.toContain('wrong-password-42');
      expect(JSON.stringify(err)).not.toContain('wrong-password-42');
    } finally {
      await client.close();
    }
  });

  it('gets ECR-style credentials in-process from the ECR API (through the real SDK) and refreshes them on 401', async () => {
    const ecrReg = await startRegistry({
      auth: 'htpasswd',
      users: { AWS: 'ecr-token-password-1' },
    });
    const ecr = await startEcrFake({ password: 'ecr-token-password-1', proxyEndpoint: ecrReg.url });
    const keychain = new EcrKeychain({
      endpoint: ecr.endpoint,
      region: 'us-east-1',
      matches: (r) => r === ecrReg.host,
    });
    const client = new RegistryClient({ keychain, insecure: true, retry: noSleep });
    try {
      ecr.passwords = ['expired-token-password'];
      const img = makeImage();
      const digest = await pushImage(client, ecrReg.host, 'ecr/app', 'v1', img);
      expect(digest).toBe(sha256Digest(img.manifest));
      // First token was refused (401) → invalidated → fetched again; then cached for the run.
      expect(ecr.calls).toBe(2);
      expect(keychain.calls).toBe(2);
      await client.getManifest({ registry: ecrReg.host, repository: 'ecr/app', tag: 'v1' });
      expect(ecr.calls).toBe(2);
    } finally {
      await client.close();
      await ecr.stop();
      await ecrReg.stop();
    }
  });
});

describe('TLS registry (self-signed)', () => {
  let reg: RegistryServer;
  beforeAll(async () => {
    reg = await startRegistry({ tls: true });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('refuses the certificate by default with RegistryTlsError', async () => {
    const client = new RegistryClient({ retry: noSleep });
    try {
      await expect(client.ping(reg.host)).rejects.toMatchObject({
        name: 'RegistryTlsError',
        temporary: false,
      });
    } finally {
      await client.close();
    }
  });

  it('works with the CA given explicitly (verified TLS)', async () => {
    const client = new RegistryClient({ caCertificates: [reg.caPem!], retry: noSleep });
    try {
      const img = makeImage();
      const digest = await pushImage(client, reg.host, 'tls/app', 'v1', img);
      expect(
        (await client.getManifest({ registry: reg.host, repository: 'tls/app', tag: 'v1' })).digest,
      ).toBe(digest);
    } finally {
      await client.close();
    }
  });

  it('works with insecure (unverified TLS), and skopeo reads it back', async () => {
    const client = new RegistryClient({ insecure: true, retry: noSleep });
    try {
      const img = makeImage();
      await pushImage(client, reg.host, 'tls/insecure', 'v1', img);
      expect(skopeoRaw(`${reg.host}/tls/insecure:v1`)).toBe(
        Buffer.from(img.manifest).toString('utf8'),
      );
    } finally {
      await client.close();
    }
  });
});

describe('token-auth registry (RS256 JWTs from our token server)', () => {
  let reg: RegistryServer;
  beforeAll(async () => {
    reg = await startRegistry({
      auth: 'token',
      users: { alice: 'alice-pw-123', bob: 'bob-pw-456' },
      grants: {
        alice: { '*': ['pull', 'push'] },
        bob: { 'bob/*': ['pull', 'push'], 'shared/*': ['pull'] },
      },
    });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  const keychainFor = (username: string, password: string) =>
    new AuthFileKeychain({ auths: { [reg.host]: { username, password } } });

  it('pushes with a bearer token scoped push-first, mounts with the source pull scope, reuses tokens', async () => {
    const client = new RegistryClient({
      keychain: keychainFor('alice', 'alice-pw-123'),
      insecure: true,
      retry: noSleep,
    });
    try {
      const img = makeImage();
      const digest = await pushImage(client, reg.host, 'shared/base', 'v1', img);
      expect(
        (await client.getManifest({ registry: reg.host, repository: 'shared/base', digest }))
          .digest,
      ).toBe(digest);
      const layer = { digest: sha256Digest(img.layer), size: img.layer.length };
      expect(
        await client.pushBlob(reg.host, 'alice/derived', layer, {
          body: img.layer,
          mountFrom: 'shared/base',
        }),
      ).toBe('mounted');
      const mountToken = reg.tokens!.issued.find(
        (t) => t.scopes.includes('repository:shared/base:pull') && t.scopes.length === 2,
      );
      expect(mountToken?.scopes).toEqual([
        'repository:alice/derived:pull,push',
        'repository:shared/base:pull',
      ]);
      // pull token for shared/base, push token for shared/base, pull alice/derived, mount token, …: far fewer than calls.
      expect(reg.tokens!.issued.length).toBeLessThanOrEqual(5);
    } finally {
      await client.close();
    }
  });

  it('fails with RegistryAuthError (insufficient scope) when the token is for another repository', async () => {
    const client = new RegistryClient({
      keychain: keychainFor('bob', 'bob-pw-456'),
      insecure: true,
      retry: noSleep,
    });
    try {
      const img = makeImage();
      await pushImage(client, reg.host, 'bob/app', 'v1', img);
      const err = await rejection(
        client.putManifest(
          { registry: reg.host, repository: 'alice/app', tag: 'v1' },
          img.manifest,
          DOCKER_MANIFEST,
        ),
      );
      expect(err).toMatchObject({
        name: 'RegistryScopeError',
        status: 401,
        codes: ['UNAUTHORIZED'],
      });
      expect(err).toBeInstanceOf(RegistryAuthError);
      expect(err.message).toMatch(
        /the credentials lack pull and push scope on repository alice\/app \(the token server granted none of them\)/,
      );
      // The token server was asked for alice/app and granted bob nothing there.
      const asked = reg.tokens!.issued.filter(
        (t) => t.user === 'bob' && t.scopes[0] === 'repository:alice/app:pull,push',
      );
      expect(asked.length).toBeGreaterThan(0);
      expect(asked.every((t) => t.access.length === 0)).toBe(true);
      // bob may pull shared/* but not push there: named, not "401 no body"
      const pushErr = await rejection(
        client.putManifest(
          { registry: reg.host, repository: 'shared/base', tag: 'bob' },
          img.manifest,
          DOCKER_MANIFEST,
        ),
      );
      expect(pushErr.name).toBe('RegistryScopeError');
      expect(pushErr.message).toMatch(
        /the credentials lack push scope on repository shared\/base \(the token server granted pull only\)/,
      );
    } finally {
      await client.close();
    }
  });

  it('fails on the token endpoint with a wrong password', async () => {
    const client = new RegistryClient({
      keychain: keychainFor('alice', 'not-her-password'),
      insecure: true,
      retry: noSleep,
    });
    try {
      const err = await rejection(
        client.getManifest({ registry: reg.host, repository: 'shared/base', tag: 'v1' }),
      );
      expect(err).toMatchObject({ name: 'RegistryAuthError', status: 401 });
      expect(err.message).toMatch(/^getting token for 127\.0\.0\.1:\d+: 401 UNAUTHORIZED/);
      expect(err.message).not.toContain('not-her-password');
    } finally {
      await client.close();
    }
  });
});
