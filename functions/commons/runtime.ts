// What every handler needs from its surroundings, built once per cold start from the
// environment (BUCKET, S3_ENDPOINT, STATE_MACHINE_ARN, ...) or injected whole by the local
// pipeline and tests (`setFunctionRuntime`). Secrets are read here, by name, from Secrets
// Manager (cached for a few minutes), and only ever handed to a stage in its deps.
// The Secrets Manager and Step Functions clients are loaded on first use: most stage runs
// need neither, and every module parsed at cold start counts against the init time.

import type { SFNClient } from '@aws-sdk/client-sfn';
import { UsageError } from '../../lib/errors.js';
import { registerSecret } from '../../lib/redact.js';
import { validateBuildRequest } from '../../lib/stages/build-request.js';
import type { BuildRequest, Credentials } from '../../lib/stages/types.js';
import { S3Store } from '../../lib/store/s3-store.js';
import type { Store } from '../../lib/store/store.js';

export class SecretNotFoundError extends UsageError {
  override name = 'SecretNotFoundError';
}

export interface FunctionRuntime {
  store: Store;
  /** The secret's value for a name given in a request; throws SecretNotFoundError. */
  resolveSecret(name: string): Promise<string>;
  /** Step Functions, for the API, the watcher and the base-image trigger (see stepFunctions()). */
  sfn?: SFNClient;
  stateMachineArn?: string;
  /** Orgs the watcher refreshes: JSON array of {endpoint, org, authTokenSecret?}. */
  watchTargets?: unknown;
  /** In-process retries of registry calls (REGISTRY_RETRIES); the state machine retries too. */
  registryRetries?: number;
}

/** REGISTRY_RETRIES as a count of retries, or undefined for the client's default (3). */
export function registryRetriesFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.REGISTRY_RETRIES;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 10) {
    throw new UsageError(`configuring the function: REGISTRY_RETRIES must be 0–10, got "${raw}"`);
  }
  return n;
}

let runtime: FunctionRuntime | undefined;

export function setFunctionRuntime(value: FunctionRuntime | undefined): void {
  runtime = value;
}

/** The runtime of this process, built from the Lambda environment on first use. */
export function functionRuntime(): FunctionRuntime {
  runtime ??= runtimeFromEnv(process.env);
  return runtime;
}

const SECRET_TTL_MS = 5 * 60_000;

export function runtimeFromEnv(env: NodeJS.ProcessEnv): FunctionRuntime {
  if (!env.BUCKET) throw new UsageError('configuring the function: BUCKET is not set');
  let secrets: Promise<typeof import('@aws-sdk/client-secrets-manager')> | undefined;
  let client: import('@aws-sdk/client-secrets-manager').SecretsManagerClient | undefined;
  const cache = new Map<string, { value: string; until: number }>();
  return {
    store: new S3Store({ bucket: env.BUCKET, endpoint: env.S3_ENDPOINT, prefix: env.STORE_PREFIX }),
    async resolveSecret(name) {
      const hit = cache.get(name);
      if (hit && hit.until > Date.now()) return hit.value;
      let value: string | undefined;
      try {
        secrets ??= import('@aws-sdk/client-secrets-manager');
        const sdk = await secrets;
        client ??= new sdk.SecretsManagerClient({});
        value = (await client.send(new sdk.GetSecretValueCommand({ SecretId: name }))).SecretString;
      } catch (cause) {
        throw new SecretNotFoundError(`reading secret ${name}: ${(cause as Error).name}`, {
          cause,
        });
      }
      if (value === undefined)
        throw new SecretNotFoundError(`reading secret ${name}: it has no string value`);
      registerSecret(value);
      cache.set(name, { value, until: Date.now() + SECRET_TTL_MS });
      return value;
    },
    stateMachineArn: env.STATE_MACHINE_ARN,
    registryRetries: registryRetriesFromEnv(env),
    watchTargets: env.WATCH_TARGETS ? JSON.parse(env.WATCH_TARGETS) : [],
  };
}

/**
 * Reads a secret for one field of the request and says which on failure: a missing webhook
 * key must not read like a missing App Registry token (every field is "a secret by name").
 */
export async function resolveSecretFor(
  rt: Pick<FunctionRuntime, 'resolveSecret'>,
  name: string,
  field: 'appRegistry.authTokenSecret' | 'registryAuthSecret' | 'webhook.hmacSecret',
): Promise<string> {
  try {
    const value = await rt.resolveSecret(name);
    // Whatever runtime read it (Secrets Manager, the local runs' environment), the value is
    // known to the redactor before any stage can send it and a server echo it back.
    registerSecret(value);
    return value;
  } catch (err) {
    if (!(err instanceof SecretNotFoundError)) throw err;
    const prefix = `reading secret ${name}: `;
    const cause = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    throw new SecretNotFoundError(`reading secret ${name} (${SECRET_ROLES[field]}): ${cause}`, {
      cause: err,
    });
  }
}

const SECRET_ROLES = {
  'appRegistry.authTokenSecret': 'appRegistry.authTokenSecret, the App Registry token',
  registryAuthSecret: 'registryAuthSecret, the registry auth file',
  'webhook.hmacSecret': "webhook.hmacSecret, the webhook's HMAC key",
} as const;

/** The credentials a request names, resolved; nothing is resolved that is not named. */
export async function credentialsFor(
  rt: FunctionRuntime,
  request: Pick<BuildRequest, 'appRegistry' | 'registryAuthSecret'>,
): Promise<Credentials> {
  const out: Credentials = {};
  if (request.appRegistry?.authTokenSecret)
    out.appRegistryToken = await resolveSecretFor(
      rt,
      request.appRegistry.authTokenSecret,
      'appRegistry.authTokenSecret',
    );
  if (request.registryAuthSecret) {
    const raw = await resolveSecretFor(rt, request.registryAuthSecret, 'registryAuthSecret');
    try {
      out.registryAuthConfig = JSON.parse(raw);
    } catch {
      throw new SecretNotFoundError(
        `reading secret ${request.registryAuthSecret} (${SECRET_ROLES.registryAuthSecret}): not a docker config.json`,
      );
    }
  }
  return out;
}

/** The Step Functions client of the runtime, created on first use. */
export async function stepFunctions(rt: FunctionRuntime): Promise<SFNClient> {
  if (!rt.sfn) {
    const { SFNClient: Client } = await import('@aws-sdk/client-sfn');
    rt.sfn = new Client({});
  }
  return rt.sfn;
}

/**
 * The configured build templates (WATCH_TARGETS), each validated like a POST /builds body;
 * their buildId is a placeholder the caller replaces.
 */
export function watchTemplates(rt: FunctionRuntime): BuildRequest[] {
  const targets = Array.isArray(rt.watchTargets) ? rt.watchTargets : [];
  return targets.map((raw) => validateBuildRequest({ ...(raw as object), buildId: 'template' }));
}
