// Keychain matching: auth files keyed by host or host/namespace (most specific wins), the
// `auth` and username/password forms, identity tokens, Docker Hub's aliases, the default file
// locations and their order, and errors that never quote a file's content.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ecrRegion } from '../../../lib/registry/ecr-keychain.js';
import {
  AuthFileKeychain,
  authKeyCandidates,
  decodeUserPassword,
  defaultAuthFiles,
  loadKeychain,
  normalizeAuthKey,
} from '../../../lib/registry/keychain.js';

const tempDirs: string[] = [];
/** A scratch directory for one case, removed when the file's cases are done. */
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keychain-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('AuthFileKeychain', () => {
  const keychain = new AuthFileKeychain({
    auths: {
      'quay.example': { auth: b64('host-user:host-pw') },
      'quay.example/team': { auth: b64('team-user:team-pw') },
      'https://quay.example/team/special/': { username: 'special-user', password: 'special:pw' },
      'https://index.docker.io/v1/': { auth: b64('hub-user:hub-pw') },
      'localhost:5000': { identitytoken: 'refresh-abc' },
      'empty.example': {},
    },
  });

  it('prefers the most specific namespace key', async () => {
    expect(await keychain.resolve('quay.example', 'team/special/img')).toEqual({
      username: 'special-user',
      password: 'special:pw',
    });
    expect(await keychain.resolve('quay.example', 'team/other')).toEqual({
      username: 'team-user',
      password: 'team-pw',
    });
    expect(await keychain.resolve('quay.example', 'elsewhere/img')).toEqual({
      username: 'host-user',
      password: 'host-pw',
    });
    // A namespace key does not leak to a sibling with the same prefix.
    expect(await keychain.resolve('quay.example', 'teammate/img')).toEqual({
      username: 'host-user',
      password: 'host-pw',
    });
  });

  it('maps every Docker Hub alias to the index key', async () => {
    for (const registry of ['docker.io', 'registry-1.docker.io', 'index.docker.io']) {
      expect(await keychain.resolve(registry, 'library/busybox')).toEqual({
        username: 'hub-user',
        password: 'hub-pw',
      });
    }
  });

  it('reads identity tokens, keeps ports apart, and skips empty entries', async () => {
    expect(await keychain.resolve('localhost:5000', 'a')).toEqual({ identityToken: 'refresh-abc' });
    expect(await keychain.resolve('localhost:5001', 'a')).toBeUndefined();
    expect(await keychain.resolve('empty.example', 'a')).toBeUndefined();
    expect(keychain.size).toBe(5);
  });

  it('rejects an auths that is not a map, and accepts a config with no auths', () => {
    expect(() => new AuthFileKeychain({ auths: [] })).toThrow(/"auths" is not an object/);
    expect(new AuthFileKeychain({ credsStore: 'desktop' }).size).toBe(0);
  });
});

describe('key normalisation', () => {
  it('strips schemes, API suffixes and slashes', () => {
    expect(normalizeAuthKey('https://Quay.Example/v2/')).toBe('quay.example');
    expect(normalizeAuthKey('http://host:5000/ns/')).toBe('host:5000/ns');
    expect(normalizeAuthKey('registry-1.docker.io')).toBe('docker.io');
  });
  it('lists candidates from the longest namespace to the host', () => {
    expect(authKeyCandidates('h:1', 'a/b/c')).toEqual(['h:1/a/b/c', 'h:1/a/b', 'h:1/a', 'h:1']);
  });
});

describe('auth files', () => {
  it('orders the default locations as documented', () => {
    expect(
      defaultAuthFiles({
        env: {
          REGISTRY_AUTH_FILE: '/r/auth.json',
          DOCKER_CONFIG: '/d',
          XDG_RUNTIME_DIR: '/run/user/1',
        },
        homeDir: '/home/u',
      }),
    ).toEqual([
      '/r/auth.json',
      path.join('/d', 'config.json'),
      path.join('/run/user/1', 'containers', 'auth.json'),
      path.join('/home/u', '.config', 'containers', 'auth.json'),
      path.join('/home/u', '.docker', 'config.json'),
    ]);
    expect(defaultAuthFiles({ env: {}, homeDir: '/h' })).toEqual([
      path.join('/h', '.config', 'containers', 'auth.json'),
      path.join('/h', '.docker', 'config.json'),
    ]);
  });

  it('loads the first default file that has the registry, skipping missing ones', async () => {
    const dir = tempDir();
    const docker = path.join(dir, 'docker');
    writeFileSync(
      path.join(dir, 'auth.json'),
      JSON.stringify({ auths: { 'a.example': { auth: b64('from-auth-json:1') } } }),
    );
    const { mkdirSync } = await import('node:fs');
    mkdirSync(docker);
    writeFileSync(
      path.join(docker, 'config.json'),
      JSON.stringify({
        auths: {
          'a.example': { auth: b64('from-docker:2') },
          'b.example': { auth: b64('b-user:3') },
        },
      }),
    );
    const keychain = await loadKeychain({
      env: { REGISTRY_AUTH_FILE: path.join(dir, 'auth.json'), DOCKER_CONFIG: docker },
      homeDir: path.join(dir, 'no-home'),
    });
    expect(await keychain.resolve('a.example', 'x')).toEqual({
      username: 'from-auth-json',
      password: '1',
    });
    expect(await keychain.resolve('b.example', 'x')).toEqual({ username: 'b-user', password: '3' });
    expect(await keychain.resolve('c.example', 'x')).toBeUndefined();
  });

  it('with -a FILE reads only that file, and a missing one is an error', async () => {
    const dir = tempDir();
    await expect(loadKeychain({ authFile: path.join(dir, 'missing.json') })).rejects.toMatchObject({
      name: 'RegistryAuthConfigError',
    });
  });

  it('reports invalid JSON without quoting the content', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, '{"auths": {"h": {"password": "hunter2-secret"');
    const err = (await loadKeychain({ authFile: file }).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ name: 'RegistryAuthConfigError' });
    expect(err.message).toContain('not valid JSON');
    expect(err.message).not.toContain('hunter2');
  });

  it('puts an explicit config (secret value) first and ECR-style fallbacks last', async () => {
    const fallback = {
      resolve: async (r: string) =>
        r === 'z.example' ? { username: 'AWS', password: 'tok' } : undefined,
    };
    const keychain = await loadKeychain({
      authConfig: { auths: { 'y.example': { auth: b64('from-secret:s') } } },
      fallbacks: [fallback],
    });
    expect(await keychain.resolve('y.example', 'r')).toEqual({
      username: 'from-secret',
      password: 's',
    });
    expect(await keychain.resolve('z.example', 'r')).toEqual({ username: 'AWS', password: 'tok' });
  });
});

describe('ecrRegion', () => {
  it('recognises ECR hosts, FIPS and China partitions, and nothing else', () => {
    expect(ecrRegion('123456789012.dkr.ecr.eu-west-1.amazonaws.com')).toBe('eu-west-1');
    expect(ecrRegion('123456789012.dkr.ecr-fips.us-east-1.amazonaws.com')).toBe('us-east-1');
    expect(ecrRegion('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn')).toBe('cn-north-1');
    expect(ecrRegion('123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example')).toBeUndefined();
    expect(ecrRegion('quay.io')).toBeUndefined();
  });
});

describe('decodeUserPassword', () => {
  it('splits at the first colon, so a password may hold colons', () => {
    expect(decodeUserPassword(b64('AWS:pa:ss'))).toEqual({ username: 'AWS', password: 'pa:ss' });
    expect(decodeUserPassword(b64('u:'))).toEqual({ username: 'u', password: '' });
  });

  it('refuses a value without a user before a colon (auth files skip it, ECR says malformed)', () => {
    expect(decodeUserPassword(b64('no-colon'))).toBeUndefined();
    expect(decodeUserPassword(b64(':only-password'))).toBeUndefined();
  });
});
