// What every handler needs from its surroundings, built once per cold start from the
// environment (BUCKET, S3_ENDPOINT, STATE_MACHINE_ARN, ...) or injected whole by the local
// pipeline and tests (`setFunctionRuntime`). Secrets are read here, by name, from Secrets
// Manager (cached for a few minutes), and only ever handed to a stage in its deps.
// The Secrets Manager and Step Functions clients are loaded on first use: most stage runs
// need neither, and every module parsed at cold start counts against the init time.

import type { SFNClient } from '@aws-sdk/client-sfn';
import { BuilderError, type BuilderErrorOptions, UsageError } from '../../lib/errors.js';
import { isTemporaryNetworkError, isTemporaryStatus } from '../../lib/http/classify.js';
import { registerSecret } from '../../lib/redact.js';
import { validateBuildRequest } from '../../lib/stages/build-request.js';
import type { BuildRequest, Credentials } from '../../lib/stages/types.js';
import { S3Store } from '../../lib/store/s3-store.js';
import type { Store } from '../../lib/store/store.js';

/** A secret that does not exist, may not be read, cannot be decrypted or has no string value. */
export class SecretNotFoundError extends UsageError {
  override name = 'SecretNotFoundError';
}

/** Secrets Manager throttled the read, failed (5xx) or could not be reached: retry later. */
export class SecretUnavailableError extends BuilderError {
  override name = 'SecretUnavailableError';
  constructor(message: string, options: BuilderErrorOptions = {}) {
    super(message, { ...options, temporary: true });
  }
}

/** Answers no retry cures, whatever status they come with. */
const PERMANENT_SECRET_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'AccessDenied',
  'DecryptionFailure',
  'InvalidParameterException',
  'InvalidRequestException',
]);
const THROTTLING_SECRET_ERRORS = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'InternalServiceError',
  'TimeoutError',
]);

/**
 * A failed GetSecretValue as a named error: throttling, 5xx and network failures are
 * temporary (the state machine retries them), everything else is permanent. The message
 * carries the SDK error's name and status only, never anything the service sent back.
 */
export function secretReadError(name: string, cause: unknown): BuilderError {
  const errName = (cause as Error | undefined)?.name ?? 'Error';
  const status = (cause as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  const message = `reading secret ${name}: ${errName}${status ? ` (HTTP ${status})` : ''}`;
  const temporary =
    !PERMANENT_SECRET_ERRORS.has(errName) &&
    (THROTTLING_SECRET_ERRORS.has(errName) ||
      (status !== undefined && isTemporaryStatus(status)) ||
      (status === undefined && isTemporaryNetworkError(cause)));
  return temporary
    ? new SecretUnavailableError(message, { cause })
    : new SecretNotFoundError(message, { cause });
}

export interface FunctionRuntime {
  store: Store;
  /**
   * The secret's value for a name given in a request; throws SecretNotFoundError, or
   * SecretUnavailableError when Secrets Manager is throttling, failing or unreachable.
   */
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
        throw secretReadError(name, cause);
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
    if (!(err instanceof SecretNotFoundError || err instanceof SecretUnavailableError)) throw err;
    const prefix = `reading secret ${name}: `;
    const cause = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    const Named =
      err instanceof SecretUnavailableError ? SecretUnavailableError : SecretNotFoundError;
    throw new Named(`reading secret ${name} (${SECRET_ROLES[field]}): ${cause}`, { cause: err });
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
