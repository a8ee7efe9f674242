// Hostile input, class "late usage errors": every flag value that can never work fails before
// the first request (exit 2, the App Registry server sees nothing), and the needs of the end
// of the build (auth file, store, output paths, a destination that speaks plain HTTP, a base
// that does not exist) are checked before any package is downloaded.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppRegistryServer, startAppRegistryServer } from '../../lib/appregistry/server.js';
import { expectNoSecrets, type HostileCase, hostileRoot } from '../support/hostile-harness.js';
import {
  type HostileServer,
  registryError,
  startHostileServer,
} from '../support/hostile-server.js';
import { REPO_ROOT } from '../support/shared-corpus.js';

const TOKEN = 'usage-token-77aa88bb';
const harness = hostileRoot('hostile-usage');
let server: AppRegistryServer;
beforeAll(async () => {
  server = await startAppRegistryServer({
    dir: path.join(REPO_ROOT, 'examples', 'manifests'),
    org: 'demo',
  });
});
afterAll(async () => {
  await server?.stop();
  harness.expectNothingOutside();
  harness.cleanup();
});

function baseArgs(c: HostileCase): string[] {
  return [
    '--appregistry-org',
    'demo',
    '--appregistry-endpoint',
    server.url,
    '--auth-token',
    TOKEN,
    '--store',
    c.store,
  ];
}

/** Replaces a flag's value in argv (or appends the flag). */
function withFlag(argv: string[], flag: string, value?: string): string[] {
  const i = argv.indexOf(flag);
  const out = [...argv];
  if (i !== -1) out.splice(i, value === undefined ? 1 : 2);
  return value === undefined ? [...out, flag] : [...out, flag, value];
}

interface UsageCase {
  name: string;
  args: (c: HostileCase) => string[];
  env?: Record<string, string>;
  message: RegExp;
}

const USAGE: UsageCase[] = [
  {
    name: 'upper-case repository in --to',
    args: (c) => [...baseArgs(c), '--from', 'scratch', '--to', '127.0.0.1:5000/NS/Img:v1'],
    message: /--to: .*(lower|invalid|reference)/i,
  },
  {
    name: 'digest in --to',
    args: (c) => [
      ...baseArgs(c),
      '--from',
      'scratch',
      '--to',
      `127.0.0.1:5000/ns/img@sha256:${'a'.repeat(64)}`,
    ],
    message: /by digest/,
  },
  {
    name: '--to scratch',
    args: (c) => [...baseArgs(c), '--from', 'scratch', '--to', 'scratch'],
    message: /scratch can only be a base image/,
  },
  {
    name: 'bad reference in --from',
    args: (c) => [...baseArgs(c), '--from', 'Bad Ref!', '--to', '127.0.0.1:5000/ns/img:v1'],
    message: /--from: /,
  },
  {
    name: '--appregistry-org ..',
    args: (c) => withFlag(baseArgs(c), '--appregistry-org', '..'),
    message: /--appregistry-org "\.\." is not valid: an org is letters/,
  },
  {
    name: '--appregistry-org with a slash',
    args: (c) => withFlag(baseArgs(c), '--appregistry-org', 'a/b'),
    message: /--appregistry-org "a\/b" is not valid: an org is letters/,
  },
  {
    name: '--appregistry-endpoint file://',
    args: (c) => withFlag(baseArgs(c), '--appregistry-endpoint', 'file:///etc/passwd'),
    message: /--appregistry-endpoint.*must be an http\(s\) URL/,
  },
  {
    name: '--appregistry-endpoint ftp://',
    args: (c) => withFlag(baseArgs(c), '--appregistry-endpoint', 'ftp://example.com/cnr'),
    message: /must be an http\(s\) URL/,
  },
  {
    name: '--appregistry-endpoint not a URL',
    args: (c) => withFlag(baseArgs(c), '--appregistry-endpoint', 'quay io'),
    message: /is not a URL/,
  },
  {
    name: '--build-id ../x',
    args: (c) => [...baseArgs(c), '--build-id', '../x'],
    message: /--build-id "\.\.\/x" is not valid: a build id is letters/,
  },
  {
    name: '--build-id with a slash',
    args: (c) => [...baseArgs(c), '--build-id', 'a/b'],
    message: /--build-id "a\/b" is not valid/,
  },
  {
    name: '--filter-by-os not a regex',
    args: (c) => [...baseArgs(c), '--filter-by-os', 'linux/(amd64'],
    message: /--filter-by-os "linux\/\(amd64" is not a regular expression/,
  },
  {
    name: 'unknown flag (typo)',
    args: (c) => [...baseArgs(c), '--to-dbb', 'x.db'],
    message: /unknown flag: --to-dbb \(did you mean --to-db\?\)/,
  },
  {
    name: 'unknown flag (prefix)',
    args: (c) => [...baseArgs(c), '--appregistry-end', 'x'],
    message: /did you mean --appregistry-endpoint\?/,
  },
  {
    name: '--max-per-registry 0',
    args: (c) => [...baseArgs(c), '--max-per-registry', '0'],
    message: /--max-per-registry must be an integer from 1 to 64/,
  },
  {
    name: '--max-file-size nonsense',
    args: (c) => [...baseArgs(c), '--max-file-size', 'lots'],
    message: /not a size/,
  },
  {
    name: 'SOURCE_DATE_EPOCH not a number',
    args: (c) => baseArgs(c),
    env: { SOURCE_DATE_EPOCH: 'yesterday' },
    message: /SOURCE_DATE_EPOCH must be a whole number/,
  },
  {
    name: '-a a missing file',
    args: (c) => [...baseArgs(c), '-a', path.join(c.work, 'inputs', 'missing.json')],
    message: /--registry-config .*: no such file or directory \(ENOENT\)/,
  },
  {
    name: '-a a file that is not JSON',
    args: (c) => {
      const f = path.join(c.work, 'inputs', 'auth.json');
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, '{"auths": ');
      return [...baseArgs(c), '-a', f];
    },
    message: /--registry-config .*: not valid JSON/,
  },
  {
    name: '--store is a file',
    args: (c) => {
      const f = path.join(c.work, 'inputs', 'store-file');
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, 'x');
      return withFlag(baseArgs(c), '--store', f);
    },
    message: /--store .* is not a directory/,
  },
  {
    name: '--to-db is a directory',
    args: (c) => {
      const d = path.join(c.work, 'out', 'db-dir');
      mkdirSync(d, { recursive: true });
      return [...baseArgs(c), '--to-db', d];
    },
    message: /--to-db .* is a directory/,
  },
];

describe('usage errors fail before any request (exit 2)', () => {
  for (const u of USAGE) {
    it(`${u.name}`, async () => {
      const c = harness.newCase(u.name);
      const before = server.requests.total;
      const run = await c.run(u.args(c), u.env);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(u.message);
      expect(run.stderr).toContain('See "catalog-build --help" for usage.');
      expect(server.requests.total - before).toBe(0);
      expectNoSecrets(harness, run, c.work, [{ secret: TOKEN }]);
    });
  }
});

describe('a build with no output target', () => {
  // Store-only builds are documented (README: --store out/store), so this is not a usage
  // error: the build says where its catalog is, even with --quiet.
  it('names the three output flags and where the database is in the store', async () => {
    const c = harness.newCase('no-output-target');
    const run = await c.run([...baseArgs(c), '--build-id', 'only-store', '-q']);
    expect(run.code, run.stderr).toBe(0);
    const where = path.join(c.store, 'builds', 'only-store', 'bundles.db');
    expect(run.stderr).toContain(
      `no --to, --to-db or --to-fbc given: the catalog is only in the store, at ${where}`,
    );
    expect(existsSync(where)).toBe(true);
    expectNoSecrets(harness, run, c.work, [{ secret: TOKEN }]);
  });
});

describe('the end of the build is checked before the first download', () => {
  let registry: HostileServer;
  afterAll(() => registry?.stop());
  it('a destination that speaks plain HTTP, without --insecure: RegistryTlsError with the hint', async () => {
    registry = await startHostileServer((_req, res) => {
      res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' });
      res.end('{}');
    });
    const c = harness.newCase('plain-http-destination');
    const before = server.requests.total;
    const run = await c.run(
      [...baseArgs(c), '--from', 'scratch', '--to', `${registry.host}/ns/img:v1`],
      { REGISTRY_RETRIES: '0' },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/does not answer TLS on this port .*pass --insecure/);
    expect(run.stderr).not.toMatch(/ERR_SSL|wrong version number/);
    expect(server.requests.total - before).toBe(0);
    expectNoSecrets(harness, run, c.work, [{ secret: TOKEN }]);
  });
  it('a base tag that does not exist: RegistryNotFoundError before any package is downloaded', async () => {
    const reg = await startHostileServer((req, res) => {
      if (req.url === '/v2/' || req.url === '/v2') {
        res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' });
        res.end('{}');
        return;
      }
      registryError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
    });
    try {
      const c = harness.newCase('missing-base');
      const before = server.requests.total;
      const run = await c.run([
        ...baseArgs(c),
        '--insecure',
        '--from',
        `${reg.host}/ns/base:nope`,
        '--to',
        `${reg.host}/ns/img:v1`,
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /error: .*ns\/base:nope.*(404|manifest unknown|MANIFEST_UNKNOWN)/i,
      );
      expect(server.requests.total - before).toBe(0);
      expect(reg.requests.some((r) => r.url.includes('/manifests/'))).toBe(true);
    } finally {
      await reg.stop();
    }
  });
});
