// docker credential helpers, with real helper programs (small shell scripts on PATH) speaking
// the protocol: server URL on stdin, {"Username","Secret"} on stdout.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CredentialHelperError,
  runCredentialHelper,
} from '../../../lib/registry/credential-helper.js';
import { AuthFileKeychain } from '../../../lib/registry/keychain.js';

let bin: string;
let env: NodeJS.ProcessEnv;

function helper(name: string, script: string): void {
  const file = path.join(bin, `docker-credential-${name}`);
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
}

beforeAll(() => {
  bin = mkdtempSync(path.join(os.tmpdir(), 'cred-helpers-'));
  env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
  helper(
    'fake',
    `[ "$1" = get ] || exit 3
read server
case "$server" in
  reg.example.com) echo '{"ServerURL":"reg.example.com","Username":"alice","Secret":"s3cret-pw"}' ;;
  https://index.docker.io/v1/) echo '{"Username":"hubuser","Secret":"hub-pw"}' ;;
  tok.example.com) echo '{"Username":"<token>","Secret":"refresh-123"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac`,
  );
  helper('broken', 'echo "cannot unlock the keyring" >&2; exit 2');
  helper('leaky', 'echo "not json but maybe a secret: hunter2"');
});
afterAll(() => rmSync(bin, { recursive: true, force: true }));

describe('runCredentialHelper', () => {
  it('reads a username and secret, an identity token, and Docker Hub under its v1 URL', async () => {
    await expect(runCredentialHelper('fake', 'reg.example.com', env)).resolves.toEqual({
      username: 'alice',
      password: 's3cret-pw',
    });
    await expect(runCredentialHelper('fake', 'tok.example.com', env)).resolves.toEqual({
      identityToken: 'refresh-123',
    });
    await expect(runCredentialHelper('fake', 'docker.io', env)).resolves.toEqual({
      username: 'hubuser',
      password: 'hub-pw',
    });
  });

  it('treats "credentials not found" as anonymous', async () => {
    await expect(runCredentialHelper('fake', 'other.example.com', env)).resolves.toBeUndefined();
  });

  it('names a missing, failing or garbled helper without quoting its output', async () => {
    await expect(runCredentialHelper('absent', 'reg.example.com', env)).rejects.toThrow(
      /docker-credential-absent is not installed/,
    );
    await expect(runCredentialHelper('broken', 'reg.example.com', env)).rejects.toThrow(
      /exit 2 \(cannot unlock the keyring\)/,
    );
    const garbled = runCredentialHelper('leaky', 'reg.example.com', env);
    await expect(garbled).rejects.toBeInstanceOf(CredentialHelperError);
    await expect(garbled).rejects.not.toThrow(/hunter2/);
  });

  it('refuses a helper name that is not one', async () => {
    await expect(runCredentialHelper('../../bin/sh', 'reg.example.com', env)).rejects.toThrow(
      /not a credential helper name/,
    );
  });
});

describe('AuthFileKeychain with helpers', () => {
  it('uses credHelpers for its host, then auths, then credsStore', async () => {
    const keychain = new AuthFileKeychain(
      {
        credHelpers: { 'reg.example.com': 'fake' },
        credsStore: 'fake',
        auths: {
          'reg.example.com': { auth: Buffer.from('file:ignored').toString('base64') },
          'plain.example.com': { auth: Buffer.from('bob:pw').toString('base64') },
        },
      },
      'test config',
      env,
    );
    await expect(keychain.resolve('reg.example.com', 'a/b')).resolves.toEqual({
      username: 'alice',
      password: 's3cret-pw',
    });
    await expect(keychain.resolve('plain.example.com', 'a/b')).resolves.toEqual({
      username: 'bob',
      password: 'pw',
    });
    await expect(keychain.resolve('tok.example.com', 'a/b')).resolves.toEqual({
      identityToken: 'refresh-123',
    });
    await expect(keychain.resolve('nowhere.example.com', 'a/b')).resolves.toBeUndefined();
  });
});
