// Credentials that may pull but not push (the careless-user case: a read-only robot account).
// Against the real registry with our token server, which grants pull only, the build fails
// with RegistryScopeError "the credentials lack push scope" — and, since the token server
// says what it granted (the JWT `access` claim), the preflight finds it before the App
// Registry is asked for anything. The tag is never written. The same registry with push
// granted builds and pushes (the check does not refuse what would work).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppRegistryServer, startAppRegistryServer } from '../../lib/appregistry/server.js';
import { loadKeychain } from '../../lib/registry/keychain.js';
import { RegistryClient } from '../../lib/registry/registry-client.js';
import { expectNoSecrets, hostileRoot } from '../support/hostile-harness.js';
import { type RegistryServer, startRegistry } from '../support/registry-server.js';
import { REPO_ROOT } from '../support/shared-corpus.js';

const TOKEN = 'scope-token-8e7f6a5b';
const USERS = { reader: 'reader-pw-5d4c3b2a', writer: 'writer-pw-1a2b3c4d' };
const harness = hostileRoot('hostile-push-scope');
let registry: RegistryServer;
let appr: AppRegistryServer;

beforeAll(async () => {
  registry = await startRegistry({
    auth: 'token',
    users: USERS,
    grants: { reader: { '*': ['pull'] }, writer: { '*': ['pull', 'push'] } },
  });
  appr = await startAppRegistryServer({
    dir: path.join(REPO_ROOT, 'examples', 'manifests'),
    org: 'demo',
  });
}, 60_000);
afterAll(async () => {
  await appr?.stop();
  await registry?.stop();
  harness.expectNothingOutside();
  harness.cleanup();
});

async function tagExists(user: keyof typeof USERS, repository: string): Promise<boolean> {
  const client = new RegistryClient({
    insecure: true,
    keychain: await loadKeychain({
      authFile: registry.authFile({ username: user, password: USERS[user] }),
    }),
  });
  try {
    return (
      (await client.headManifest({ registry: registry.host, repository, tag: 'v1' })) !== undefined
    );
  } finally {
    await client.close();
  }
}

function build(
  user: keyof typeof USERS,
  repository: string,
  c: ReturnType<typeof harness.newCase>,
) {
  return c.run([
    '--appregistry-org',
    'demo',
    '--appregistry-endpoint',
    appr.url,
    '--auth-token',
    TOKEN,
    '--from',
    'scratch',
    '--to',
    `${registry.host}/${repository}:v1`,
    '--insecure',
    '-a',
    registry.authFile({ username: user, password: USERS[user] }),
    '--store',
    c.store,
  ]);
}

describe('credentials without push scope', () => {
  it('RegistryScopeError "lack push scope", found before any App Registry request; no tag', async () => {
    const c = harness.newCase('pull-only');
    const run = await build('reader', 'ns/readonly', c);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      /error: checking push access to 127\.0\.0\.1:\d+\/ns\/readonly:v1: the credentials lack push scope on repository ns\/readonly \(the token server granted pull only\)/,
    );
    expect(appr.requests.total).toBe(0);
    expect(await tagExists('writer', 'ns/readonly')).toBe(false);
    expect(registry.tokens!.issued.some((t) => t.user === 'reader')).toBe(true);
    expectNoSecrets(harness, run, c.work, [
      { secret: TOKEN },
      { secret: USERS.reader, user: 'reader' },
    ]);
  });

  it('the same build with push granted pushes the tag (the check refuses only what would fail)', async () => {
    const c = harness.newCase('push-granted');
    const before = appr.requests.total;
    const run = await build('writer', 'ns/writable', c);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^Pushed sha256:[a-f0-9]{64} to 127\.0\.0\.1:\d+\/ns\/writable:v1$/m,
    );
    expect(appr.requests.total).toBeGreaterThan(before);
    expect(await tagExists('writer', 'ns/writable')).toBe(true);
    expectNoSecrets(harness, run, c.work, [
      { secret: TOKEN },
      { secret: USERS.writer, user: 'writer' },
    ]);
  });
});
