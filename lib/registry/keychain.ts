// Where registry credentials come from. A Keychain answers "which credential for this
// registry/repository?"; the client never learns where it came from. Sources: a docker
// `config.json` or containers `auth.json` (`-a FILE`, a Secrets Manager value, DOCKER_CONFIG,
// REGISTRY_AUTH_FILE and the usual default locations), ECR (ecr-keychain.ts), anonymous.
// `auths` keys may name a host or host/namespace; the most specific key wins, as in the
// containers tools. Docker Hub is stored under several historical keys, all understood here.
// `credHelpers`/`credsStore` name docker credential helpers, which are run on demand.

import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RegistryError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { runCredentialHelper } from './credential-helper.js';

/** A credential for one registry. Only one form is normally set. */
export interface Credential {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (`identitytoken`), exchanged at the token realm. */
  identityToken?: string;
  /** A bearer token to send as is (`registrytoken`). */
  registryToken?: string;
}

export interface Keychain {
  /** The credential for `registry` (host[:port]) and `repository`, or undefined (anonymous). */
  resolve(registry: string, repository: string): Promise<Credential | undefined>;
  /** Forget a cached credential after the registry refused it (ECR token refresh). */
  invalidate?(registry: string): void;
}

/** The keychain that never has a credential. */
export const anonymousKeychain: Keychain = { resolve: async () => undefined };

/** Thrown when an auth file exists but cannot be read as JSON with an `auths` map. */
export class RegistryAuthConfigError extends RegistryError {
  override name = 'RegistryAuthConfigError';
}

const DOCKER_HUB_ALIASES = [
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
];

/** Normalises an `auths` key: no scheme, no trailing slash or `/v1/`, `/v2/` API suffix. */
export function normalizeAuthKey(key: string): string {
  let k = key.trim().toLowerCase();
  k = k.replace(/^[a-z]+:\/\//, '');
  k = k.replace(/\/+$/, '');
  k = k.replace(/\/v[12]$/, '');
  const [host = '', ...rest] = k.split('/');
  const canonicalHost = DOCKER_HUB_ALIASES.includes(host) ? 'docker.io' : host;
  return [canonicalHost, ...rest].join('/');
}

/** The keys that may hold a credential for registry/repository, most specific first. */
export function authKeyCandidates(registry: string, repository: string): string[] {
  const host = normalizeAuthKey(registry);
  const parts = repository
    .toLowerCase()
    .split('/')
    .filter((p) => p.length > 0);
  const out: string[] = [];
  for (let n = parts.length; n > 0; n--) out.push(`${host}/${parts.slice(0, n).join('/')}`);
  out.push(host);
  return out;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/**
 * base64 `user:password` (an auth file's `auth`, an ECR authorization token) → its two
 * parts, or undefined when there is no `:` after a non-empty user.
 */
export function decodeUserPassword(
  base64: string,
): { username: string; password: string } | undefined {
  const decoded = Buffer.from(base64, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function entryToCredential(entry: AuthEntry): Credential | undefined {
  const pair = entry.auth ? decodeUserPassword(entry.auth) : undefined;
  const username = pair ? pair.username : entry.username;
  const password = pair ? pair.password : entry.password;
  // Every credential we may send is registered with the one redactor before it is ever used.
  if (entry.auth) registerSecret(entry.auth);
  registerSecret(password, username);
  registerSecret(entry.identitytoken);
  registerSecret(entry.registrytoken);
  const cred: Credential = {};
  if (entry.identitytoken) cred.identityToken = entry.identitytoken;
  if (entry.registrytoken) cred.registryToken = entry.registrytoken;
  if (username) cred.username = username;
  if (password !== undefined && password !== '') cred.password = password;
  return Object.keys(cred).length > 0 ? cred : undefined;
}

/** Credentials from the `auths` map of a docker config.json / containers auth.json. */
export class AuthFileKeychain implements Keychain {
  private readonly entries = new Map<string, Credential>();
  /** credHelpers: normalised host → helper name; credsStore: the helper for every other host. */
  private readonly helpers = new Map<string, string>();
  private readonly store: string | undefined;
  private readonly fromHelpers = new Map<string, Promise<Credential | undefined>>();

  /** `config` is the parsed JSON; `source` names it in errors (never its content). */
  constructor(
    config: unknown,
    source = 'auth config',
    private readonly helperEnv: NodeJS.ProcessEnv = process.env,
  ) {
    const { credHelpers, credsStore } = (config ?? {}) as {
      credHelpers?: unknown;
      credsStore?: unknown;
    };
    if (credHelpers && typeof credHelpers === 'object' && !Array.isArray(credHelpers)) {
      for (const [host, helper] of Object.entries(credHelpers)) {
        if (typeof helper === 'string' && helper) this.helpers.set(normalizeAuthKey(host), helper);
      }
    }
    this.store = typeof credsStore === 'string' && credsStore ? credsStore : undefined;
    const auths = (config as { auths?: unknown } | null)?.auths;
    if (auths === undefined) return; // a config.json with only credHelpers etc.
    if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
      throw new RegistryAuthConfigError(`reading ${source}: "auths" is not an object`);
    }
    for (const [key, value] of Object.entries(auths as Record<string, AuthEntry>)) {
      const cred = value && typeof value === 'object' ? entryToCredential(value) : undefined;
      if (cred) this.entries.set(normalizeAuthKey(key), cred);
    }
  }

  /** Reads a file; a missing file gives an empty keychain when `optional`. */
  static async fromFile(file: string, optional = false): Promise<AuthFileKeychain> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT')
        return new AuthFileKeychain({});
      throw new RegistryAuthConfigError(`reading auth file ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The parser's message may quote the content (a password): say only where it failed.
      throw new RegistryAuthConfigError(`reading auth file ${file}: not valid JSON`);
    }
    return new AuthFileKeychain(parsed, `auth file ${file}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** docker's order: a host's credHelper, then `auths`, then the credsStore. */
  async resolve(registry: string, repository: string): Promise<Credential | undefined> {
    const host = normalizeAuthKey(registry);
    const helper = this.helpers.get(host);
    if (helper) return this.viaHelper(helper, host);
    for (const key of authKeyCandidates(registry, repository)) {
      const cred = this.entries.get(key);
      if (cred) return cred;
    }
    return this.store ? this.viaHelper(this.store, host) : undefined;
  }

  /** One helper call per host and run (helpers may prompt or be slow). */
  private viaHelper(helper: string, host: string): Promise<Credential | undefined> {
    let pending = this.fromHelpers.get(host);
    if (!pending) {
      pending = runCredentialHelper(helper, host, this.helperEnv);
      this.fromHelpers.set(host, pending);
    }
    return pending;
  }

  invalidate(registry: string): void {
    this.fromHelpers.delete(normalizeAuthKey(registry));
  }
}

/** Tries keychains in order; the first that has a credential wins. */
export class MultiKeychain implements Keychain {
  constructor(private readonly keychains: readonly Keychain[]) {}
  async resolve(registry: string, repository: string): Promise<Credential | undefined> {
    for (const k of this.keychains) {
      const cred = await k.resolve(registry, repository);
      if (cred) return cred;
    }
    return undefined;
  }
  invalidate(registry: string): void {
    for (const k of this.keychains) k.invalidate?.(registry);
  }
}

export interface DefaultAuthFilesOptions {
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
}

/**
 * The auth files looked at when no `-a FILE` is given, in order: REGISTRY_AUTH_FILE,
 * $DOCKER_CONFIG/config.json, ${XDG_RUNTIME_DIR}/containers/auth.json,
 * ~/.config/containers/auth.json, ~/.docker/config.json.
 */
export function defaultAuthFiles(options: DefaultAuthFilesOptions = {}): string[] {
  const env = options.env ?? process.env;
  const home = options.homeDir ?? os.homedir();
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.DOCKER_CONFIG) files.push(path.join(env.DOCKER_CONFIG, 'config.json'));
  if (env.XDG_RUNTIME_DIR) files.push(path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  files.push(path.join(home, '.config', 'containers', 'auth.json'));
  files.push(path.join(home, '.docker', 'config.json'));
  return [...new Set(files)];
}

export interface KeychainOptions extends DefaultAuthFilesOptions {
  /** `-a FILE`: when given, the only file read (a missing file is an error). */
  authFile?: string;
  /** Parsed docker config JSON from elsewhere (e.g. a Secrets Manager value); tried first. */
  authConfig?: unknown;
  /** Extra keychains tried after the files (e.g. an EcrKeychain). */
  fallbacks?: Keychain[];
}

/** The keychain of a run: explicit config, then auth files, then fallbacks (ECR), then none. */
export async function loadKeychain(options: KeychainOptions = {}): Promise<Keychain> {
  const chain: Keychain[] = [];
  if (options.authConfig !== undefined)
    chain.push(new AuthFileKeychain(options.authConfig, 'registry auth secret'));
  if (options.authFile) {
    chain.push(await AuthFileKeychain.fromFile(options.authFile));
  } else if (options.authConfig === undefined) {
    for (const file of defaultAuthFiles(options))
      chain.push(await AuthFileKeychain.fromFile(file, true));
  }
  chain.push(...(options.fallbacks ?? []));
  return new MultiKeychain(chain);
}
