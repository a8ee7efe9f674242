// Hostile input, class "secrets leak": registries and App Registries that echo what we sent
// (Authorization headers, Basic credentials, bearer tokens, the App Registry token) in error
// bodies, and endpoints given with user-info or a token in the query. Whatever the server
// says, no form of a secret may reach stdout, stderr, the store (request, stage records,
// report.json/.md, snapshots) or any output file; the outcome is still a named error.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startAppRegistryServer } from '../../lib/appregistry/server.js';
import { expectNoSecrets, type HostileCase, hostileRoot } from '../support/hostile-harness.js';
import {
  type HostileServer,
  registryError,
  sendJson,
  startHostileServer,
} from '../support/hostile-server.js';
import { REPO_ROOT } from '../support/shared-corpus.js';

const USER = 'hostile-user';
const PASSWORD = 'pw-7d9e1c3b5a-secret';
const TOKEN = 'bearer-tok-91b2c3d4e5f6';
const APPR_TOKEN = 'appr-token-0a1b2c3d';
const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const SECRETS = [{ secret: PASSWORD, user: USER }, { secret: TOKEN }, { secret: APPR_TOKEN }];

const harness = hostileRoot('hostile-secrets');
const servers: HostileServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(() => {
  harness.expectNothingOutside();
  harness.cleanup();
});

type Echo = (auth: string) => string;

function reportOf(c: HostileCase): { failure: unknown } {
  const builds = path.join(c.store, 'builds');
  const [id] = readdirSync(builds);
  return JSON.parse(readFileSync(path.join(builds, id!, 'report.json'), 'utf8'));
}

/** A registry that asks for Basic or Bearer credentials and echoes them in its refusal. */
async function echoingRegistry(scheme: 'basic' | 'bearer', echo: Echo, status = 403) {
  const srv = await startHostileServer((req, res) => {
    const auth = req.headers.authorization;
    if (req.url?.startsWith('/token')) {
      sendJson(res, 200, { token: TOKEN, access_token: TOKEN, expires_in: 300 });
      return;
    }
    if (!auth) {
      const challenge =
        scheme === 'basic'
          ? 'Basic realm="hostile"'
          : `Bearer realm="${srv.url}/token",service="hostile",scope="repository:ns/img:pull,push"`;
      registryError(res, 401, 'UNAUTHORIZED', 'authentication required', {
        'www-authenticate': challenge,
      });
      return;
    }
    if (req.method === 'HEAD') {
      // Blobs are "missing", so the push goes on to an upload, which is refused with the echo.
      res.writeHead(404, { 'x-echo': auth });
      res.end();
      return;
    }
    registryError(res, status, 'DENIED', echo(auth), { 'x-echo': auth });
  });
  servers.push(srv);
  return srv;
}

function authFile(c: HostileCase, host: string): string {
  const file = path.join(c.work, 'inputs', 'auth.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ auths: { [host]: { auth: basic } } }));
  return file;
}

async function pushTo(c: HostileCase, srv: HostileServer) {
  return c.run([
    '--manifest-dir',
    path.join(REPO_ROOT, 'examples', 'manifests'),
    '--from',
    'scratch',
    '--to',
    `${srv.host}/ns/img:v1`,
    '--insecure',
    '-a',
    authFile(c, srv.host),
    '--store',
    c.store,
    '--to-db',
    path.join(c.work, 'out', 'index.db'),
  ]);
}

const ECHOES: Array<[string, 'basic' | 'bearer', Echo, number?]> = [
  ['Basic header echoed verbatim', 'basic', (a) => `denied: Authorization: ${a}`],
  ['Basic header echoed in a 401', 'basic', (a) => `bad credentials ${a}`, 401],
  ['decoded user:password echoed', 'basic', () => `user ${USER}:${PASSWORD} may not push`],
  ['password echoed alone', 'basic', () => `password ${PASSWORD} expired`],
  [
    'credentials echoed as base64url',
    'basic',
    () => `token ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64url')} rejected`,
  ],
  ['credentials echoed URL-encoded', 'basic', () => `pw=${encodeURIComponent(PASSWORD)}`],
  ['Bearer header echoed verbatim', 'bearer', (a) => `insufficient scope for ${a}`],
  ['bearer token echoed alone', 'bearer', () => `token ${TOKEN} lacks push`],
  ['bearer token echoed as JSON', 'bearer', () => JSON.stringify({ access_token: TOKEN })],
  ['Bearer header echoed in a 401', 'bearer', (a) => `${a} is not valid here`, 401],
];

describe('registries that echo our credentials', () => {
  for (const [name, scheme, echo, status] of ECHOES) {
    it(`${name}: a named registry error, no secret in any output`, async () => {
      const c = harness.newCase(name);
      const srv = await echoingRegistry(scheme, echo, status);
      const run = await pushTo(c, srv);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/error: .*(40[13]|DENIED|UNAUTHORIZED)/);
      // Basic credentials are refused already when preflight checks them (GET /v2/), before
      // any work; an opaque bearer token says nothing before a write, so the push meets it.
      expect(reportOf(c).failure).toMatchObject({
        name: 'RegistryAuthError',
        stage: scheme === 'basic' ? 'preflight' : 'push-image',
      });
      expect(srv.requests.some((r) => r.headers.authorization)).toBe(true);
      expectNoSecrets(harness, run, c.work, SECRETS);
      expect(harness.filesUnder(c.store).size).toBeGreaterThan(0);
    });
  }
});

describe('App Registries that echo the token, endpoints that carry credentials', () => {
  it('a 500 whose body echoes the App Registry token: named error, token nowhere', async () => {
    const srv = await startHostileServer((req, res) =>
      sendJson(res, 500, {
        error: { code: 'boom', message: `token ${req.headers.authorization} broke us` },
      }),
    );
    servers.push(srv);
    const c = harness.newCase('appr-echo-500');
    const run = await c.run(
      [
        '--appregistry-org',
        'org',
        '--appregistry-endpoint',
        `${srv.url}/cnr`,
        '--auth-token',
        APPR_TOKEN,
        '--to-db',
        path.join(c.work, 'out', 'index.db'),
        '--store',
        c.store,
      ],
      { APPREGISTRY_RETRIES: '0' },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: .*listing packages of org org/);
    expectNoSecrets(harness, run, c.work, SECRETS);
  });
  it('a 403 whose body echoes the token in a JSON pair: named AppRegistryAuthError', async () => {
    const srv = await startHostileServer((_req, res) =>
      sendJson(res, 403, { error: { code: 'denied', message: `"token": "${APPR_TOKEN}"` } }),
    );
    servers.push(srv);
    const c = harness.newCase('appr-echo-403');
    const run = await c.run([
      '--appregistry-org',
      'org',
      '--appregistry-endpoint',
      `${srv.url}/cnr`,
      '--auth-token',
      APPR_TOKEN,
      '--to-db',
      path.join(c.work, 'out', 'index.db'),
      '--store',
      c.store,
    ]);
    expect(run.code).toBe(1);
    expectNoSecrets(harness, run, c.work, SECRETS);
  });
  it('an --appregistry-endpoint with user-info is refused before any request, the password nowhere', async () => {
    const c = harness.newCase('endpoint-userinfo-refused');
    const run = await c.run([
      '--appregistry-org',
      'demo',
      '--appregistry-endpoint',
      `http://${USER}:${PASSWORD}@127.0.0.1:9/cnr`,
      '--to-db',
      path.join(c.work, 'out', 'index.db'),
      '--store',
      c.store,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/must not carry credentials/);
    expectNoSecrets(harness, run, c.work, SECRETS);
  });
  const endpoints: Array<[string, (url: string) => string, string]> = [
    ['a token in the query', (u) => `${u}?token=${APPR_TOKEN}`, APPR_TOKEN],
    ['an access_token in the query', (u) => `${u}?access_token=${APPR_TOKEN}`, APPR_TOKEN],
  ];
  for (const [name, make] of endpoints) {
    it(`an --appregistry-endpoint with ${name} is never printed or stored`, async () => {
      const server = await startAppRegistryServer({
        dir: path.join(REPO_ROOT, 'examples', 'manifests'),
        org: 'demo',
      });
      try {
        const c = harness.newCase(`endpoint-${name}`);
        const run = await c.run([
          '--appregistry-org',
          'demo',
          '--appregistry-endpoint',
          make(server.url),
          '--to-db',
          path.join(c.work, 'out', 'index.db'),
          '--store',
          c.store,
        ]);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toContain('listing packages of demo');
        expectNoSecrets(harness, run, c.work, SECRETS);
      } finally {
        await server.stop();
      }
    });
  }
  it('an --appregistry-endpoint with a query token on a failing build: error and report clean', async () => {
    const c = harness.newCase('endpoint-userinfo-failing');
    const srv = await startHostileServer((req, res) =>
      sendJson(res, 404, {
        error: {
          code: 'nope',
          message: `no org at ${req.headers.host} for ${req.headers.authorization ?? ''}`,
        },
      }),
    );
    servers.push(srv);
    const run = await c.run([
      '--appregistry-org',
      'org',
      '--appregistry-endpoint',
      `http://${srv.host}/cnr?token=${APPR_TOKEN}&password=${PASSWORD}`,
      '--to-db',
      path.join(c.work, 'out', 'index.db'),
      '--store',
      c.store,
    ]);
    expect(run.code).toBe(1);
    expectNoSecrets(harness, run, c.work, SECRETS);
  });
});
