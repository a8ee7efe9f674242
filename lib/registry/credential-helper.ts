// docker credential helpers (`credHelpers` / `credsStore` in config.json): `docker login` on
// most desktops stores passwords in the OS keychain and leaves only the helper's name in the
// file. We speak the helper protocol: run `docker-credential-<name> get`, write the server
// URL on stdin, read {"Username","Secret"} from stdout. "<token>" as username means the secret
// is an identity token. No shell is involved and the helper name is checked, so a config file
// cannot make us run anything but a docker-credential-* program from PATH.

import { execFile } from 'node:child_process';
import { RegistryError } from '../errors.js';
import { registerSecret } from '../redact.js';
import type { Credential } from './keychain.js';

export class CredentialHelperError extends RegistryError {
  override name = 'CredentialHelperError';
}

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A helper asking for a desktop unlock should not hang a build forever. */
const HELPER_TIMEOUT_MS = 15_000;

/** The server URL docker passes to helpers: Docker Hub's historical v1 URL, else the host. */
export function helperServerUrl(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

export function runCredentialHelper(
  helper: string,
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credential | undefined> {
  const program = `docker-credential-${helper}`;
  const what = `getting credentials for ${registry} from ${program}`;
  if (!HELPER_NAME.test(helper)) {
    return Promise.reject(new CredentialHelperError(`${what}: not a credential helper name`));
  }
  return new Promise((resolve, reject) => {
    const child = execFile(
      program,
      ['get'],
      { env, timeout: HELPER_TIMEOUT_MS, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT')
            return reject(
              new CredentialHelperError(
                `${what}: ${program} is not installed (it is named in your docker config)`,
              ),
            );
          // The protocol's answer for "nothing stored for this server": anonymous, not an error.
          if (/credentials not found/i.test(`${stdout}${stderr}`)) return resolve(undefined);
          // stderr may be anything the helper prints; only its first line, never stdout (secrets).
          const first = String(stderr).split('\n')[0]?.slice(0, 200) ?? '';
          return reject(
            new CredentialHelperError(
              `${what}: ${err.killed ? 'timed out' : `exit ${String(code)}`}${first ? ` (${first})` : ''}`,
            ),
          );
        }
        let parsed: { Username?: unknown; Secret?: unknown };
        try {
          parsed = JSON.parse(String(stdout)) as typeof parsed;
        } catch {
          return reject(new CredentialHelperError(`${what}: the answer is not JSON`));
        }
        const username = typeof parsed.Username === 'string' ? parsed.Username : '';
        const secret = typeof parsed.Secret === 'string' ? parsed.Secret : '';
        if (!secret) return resolve(undefined);
        registerSecret(secret, username === '<token>' ? undefined : username);
        resolve(
          username === '<token>' ? { identityToken: secret } : { username, password: secret },
        );
      },
    );
    // A helper that exits without reading stdin makes this write fail (EPIPE); its exit
    // status, reported above, is the error that matters.
    child.stdin?.on('error', () => {});
    child.stdin?.end(helperServerUrl(registry));
  });
}
