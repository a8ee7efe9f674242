// Hostile input, classes "a failed build destroys the previous output" and "unnamed errors":
// a failing build leaves the previous --to-db byte-identical, two packages whose paths
// collide on unpacking give a ManifestUnpackError (not a raw EEXIST), a base image config
// nested 20 000 deep is a MalformedImageError (not a stack overflow), a --store below a file
// is a usage error before any request.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packPackage } from '../../lib/appregistry/pack.js';
import { startAppRegistryServer } from '../../lib/appregistry/server.js';
import { flattenedBlob } from '../fixtures/appregistry/blobs.js';
import { expectNoSecrets, hostileRoot } from '../support/hostile-harness.js';
import { startHostileServer } from '../support/hostile-server.js';
import { REPO_ROOT } from '../support/shared-corpus.js';

const TOKEN = 'outputs-token-1234abcd';
const harness = hostileRoot('hostile-outputs');
afterAll(() => {
  harness.expectNothingOutside();
  harness.cleanup();
});
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const EXAMPLES = path.join(REPO_ROOT, 'examples', 'manifests');

describe('outputs', () => {
  it('a failing build (empty org) leaves the previous --to-db byte-identical', async () => {
    const server = await startAppRegistryServer({ dir: EXAMPLES, org: 'demo', token: TOKEN });
    try {
      const c = harness.newCase('previous-db-kept');
      const db = path.join(c.work, 'out', 'index.db');
      const ok = await c.run([
        '--appregistry-org',
        'demo',
        '--appregistry-endpoint',
        server.url,
        '--auth-token',
        TOKEN,
        '--to-db',
        db,
        '--store',
        c.store,
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      const before = sha(readFileSync(db));
      const failed = await c.run([
        '--appregistry-org',
        'nobody',
        '--appregistry-endpoint',
        server.url,
        '--auth-token',
        TOKEN,
        '--to-db',
        db,
        '--store',
        c.store,
      ]);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('org nobody has no packages');
      expect(sha(readFileSync(db))).toBe(before);
      expect(readdirSync(path.dirname(db)).filter((n) => n.includes('.tmp-'))).toEqual([]);
      expectNoSecrets(harness, failed, c.work, [{ secret: TOKEN }]);
    } finally {
      await server.stop();
    }
  });

  it("a package file that is another package's directory: ManifestUnpackError, nothing half-unpacked", async () => {
    const enc = (t: string) => new TextEncoder().encode(t);
    const server = await startAppRegistryServer({
      dir: EXAMPLES,
      org: 'demo',
      extraPackages: [
        // Unpacks as evil/evil.package.yaml/x.yaml: a directory named like a file…
        {
          repository: 'evil',
          blob: packPackage([
            { path: 'evil.package.yaml/x.yaml', data: enc('kind: X\n') },
            { path: 'evil.package.yaml/y.yaml', data: enc('kind: Y\n') },
          ]),
        },
        // …that this flattened package writes as a file (evil/evil.package.yaml).
        {
          repository: 'flat-evil',
          blob: flattenedBlob(
            'data:\n  packages: |\n    - packageName: evil\n      defaultChannel: stable\n      channels:\n      - name: stable\n        currentCSV: evil.v1\n',
          ),
        },
      ],
    });
    try {
      const c = harness.newCase('unpack-collision');
      const unpack = path.join(c.work, 'out', 'manifests');
      const run = await c.run([
        '--appregistry-org',
        'demo',
        '--appregistry-endpoint',
        server.url,
        '--manifest-dir',
        unpack,
        '--to-db',
        path.join(c.work, 'out', 'index.db'),
        '--store',
        c.store,
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /error: unpacking the downloaded manifests to .*: evil\/evil\.package\.yaml.* of package (evil|flat-evil) is .* of package (evil|flat-evil)/,
      );
      expect(run.stderr).not.toContain('EEXIST');
      expect(() => readdirSync(unpack)).toThrow();
    } finally {
      await server.stop();
    }
  });

  it('a base config nested 20 000 deep: MalformedImageError before any package download', async () => {
    const config = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const configDigest = `sha256:${sha(config)}`;
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: [],
    });
    const reg = await startHostileServer((req, res) => {
      if (req.url === '/v2/') {
        res.writeHead(200);
        res.end('{}');
      } else if (req.url?.includes('/manifests/')) {
        res.writeHead(200, {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'docker-content-digest': `sha256:${sha(manifest)}`,
        });
        res.end(req.method === 'HEAD' ? undefined : manifest);
      } else if (req.url?.includes(`/blobs/${configDigest}`)) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(config);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    const server = await startAppRegistryServer({ dir: EXAMPLES, org: 'demo' });
    try {
      const c = harness.newCase('deep-base-config');
      const run = await c.run([
        '--appregistry-org',
        'demo',
        '--appregistry-endpoint',
        server.url,
        '--from',
        `${reg.host}/ns/base:v1`,
        '--to',
        `${reg.host}/ns/out:v1`,
        '--insecure',
        '--store',
        c.store,
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /error: parsing config of .*: nested 20000 levels deep, over the limit of 128/,
      );
      expect(run.stderr).not.toMatch(/Maximum call stack/);
      expect(server.requests.blob).toBe(0);
    } finally {
      await reg.stop();
      await server.stop();
    }
  });

  it('--store below a regular file: PreflightError (exit 2), not a raw ENOTDIR', async () => {
    const c = harness.newCase('store-under-file');
    const file = path.join(c.work, 'inputs', 'plain-file');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, 'x');
    const run = await c.run([
      '--manifest-dir',
      EXAMPLES,
      '--to-db',
      path.join(c.work, 'out', 'x.db'),
      '--store',
      path.join(file, 'store'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /--store .*plain-file\/store: a part of the path is not a directory \(ENOTDIR\)/,
    );
  });
});

describe('unbounded answers', () => {
  it('a 2 MiB token answer: RegistryProtocolError at the 1 MiB cap, not read whole', async () => {
    const reg = await startHostileServer((req, res) => {
      if (req.url?.startsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: 'x'.repeat(2 * 1024 * 1024) }));
        return;
      }
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="s"`,
      });
      res.end();
    });
    try {
      const c = harness.newCase('huge-token');
      const run = await c.run([
        '--manifest-dir',
        EXAMPLES,
        '--from',
        'scratch',
        '--to',
        `${reg.host}/ns/img:v1`,
        '--insecure',
        '--store',
        c.store,
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /error: getting token for .*: the answer is larger than 1048576 bytes/,
      );
    } finally {
      await reg.stop();
    }
  });
  it('a listing over --max-packages: AppRegistryListingLimitError before any package is shown or pulled', async () => {
    const server = await startAppRegistryServer({ dir: EXAMPLES, org: 'demo' });
    try {
      const c = harness.newCase('listing-limit');
      const run = await c.run([
        '--appregistry-org',
        'demo',
        '--appregistry-endpoint',
        server.url,
        '--max-packages',
        '1',
        '--to-db',
        path.join(c.work, 'out', 'x.db'),
        '--store',
        c.store,
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /it lists 2 packages, over the limit of 1 \(raise it with --max-packages/,
      );
      expect(server.requests.show + server.requests.blob).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
