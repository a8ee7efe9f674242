// The error families every module throws. Step Functions matches Retry/Catch on an error's
// `name`, so each concrete class sets a stable `name` by hand (never derived from the
// minified constructor name) and says whether retrying may help (`temporary`).
// Messages read "<verb-ing> <object>: <cause>"; secrets never appear in them (see redact.ts).

export interface BuilderErrorOptions extends ErrorOptions {
  /** True when the same call may succeed later (408/429/5xx, connection resets). */
  temporary?: boolean;
}

/** Base of every error this project throws on purpose. */
export class BuilderError extends Error {
  override name = 'BuilderError';
  readonly temporary: boolean;
  constructor(message: string, options: BuilderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.temporary = options.temporary ?? false;
  }
}

/** Manifests that cannot be read or loaded as a catalog. */
export class CatalogError extends BuilderError {
  override name = 'CatalogError';
}

/** Talking to an App Registry (CNR API) or decoding what it sent. */
export class AppRegistryError extends BuilderError {
  override name = 'AppRegistryError';
}

/** Talking to a container registry (Docker Registry HTTP API v2 / OCI distribution). */
export class RegistryError extends BuilderError {
  override name = 'RegistryError';
}

/** An image document (manifest, index, config) that is not what it claims to be. */
export class ImageError extends BuilderError {
  override name = 'ImageError';
}

/** Reading or writing the store (S3 bucket or local directory). */
export class StoreError extends BuilderError {
  override name = 'StoreError';
}

/** A request (CLI flags, API body, stage event) that cannot be acted on as given. */
export class UsageError extends BuilderError {
  override name = 'UsageError';
}

/** Names of every temporary error class, for the state machine's Retry (kept in one place). */
export const TEMPORARY_ERROR_NAMES: readonly string[] = [
  'RegistryUnavailableError',
  'RegistryRateLimitedError',
  'RegistryTimeoutError',
  'AppRegistryUnavailableError',
  'AppRegistryTimeoutError',
  'AppRegistryPackagesUnavailableError',
  'StoreUnavailableError',
  'SecretUnavailableError',
];

/** A short, single-line description of any thrown value, for logs and reports. */
export function describeError(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}
