// The App Registry family of errors, one class per way a download or a decode can fail.
// Step Functions and the CLI match on `name`, so every class sets it by hand; only the
// ones a retry may cure (rate limits, 5xx, resets, timeouts) are `temporary`. Messages
// carry the redacted URL and the status line, never the token.
import { AppRegistryError, type BuilderErrorOptions } from '../errors.js';

/** 401/403: the token is missing, wrong or lacks access to the org. */
export class AppRegistryAuthError extends AppRegistryError {
  override name = 'AppRegistryAuthError';
}

/** 404: the org, package, release or blob does not exist. */
export class AppRegistryNotFoundError extends AppRegistryError {
  override name = 'AppRegistryNotFoundError';
}

/** 408/429/5xx, connection resets and timeouts: worth retrying later. */
export class AppRegistryUnavailableError extends AppRegistryError {
  override name = 'AppRegistryUnavailableError';
  constructor(message: string, options: BuilderErrorOptions = {}) {
    super(message, { ...options, temporary: true });
  }
}

/**
 * No answer within a timeout (connect, response headers, body idle); the message names the
 * limit and how to raise it. Temporary, like every unavailability.
 */
export class AppRegistryTimeoutError extends AppRegistryUnavailableError {
  override name = 'AppRegistryTimeoutError';
}

/** Any other refused request (400, 405, 409…): retrying the same call will not help. */
export class AppRegistryRequestError extends AppRegistryError {
  override name = 'AppRegistryRequestError';
}

/** The server answered, but not in the shape of the CNR API (non-JSON, bad names, no digest). */
export class AppRegistryProtocolError extends AppRegistryError {
  override name = 'AppRegistryProtocolError';
}

/**
 * A listed package whose repository name is not one OLM and a store key can carry (letters,
 * digits, '.', '_', '-', starting with a letter or digit, at most 200 characters): the
 * package is left out with a warning naming this error; the build goes on.
 */
export class AppRegistryPackageNameError extends AppRegistryError {
  override name = 'AppRegistryPackageNameError';
}

/** The org lists more packages than --max-packages allows. */
export class AppRegistryListingLimitError extends AppRegistryError {
  override name = 'AppRegistryListingLimitError';
}

/** The org lists no packages at all: a wrong org or endpoint, said plainly. */
export class AppRegistryEmptyOrgError extends AppRegistryError {
  override name = 'AppRegistryEmptyOrgError';
}

/** The bytes received do not hash to the digest they were asked for. */
export class AppRegistryDigestMismatchError extends AppRegistryError {
  override name = 'AppRegistryDigestMismatchError';
}

/** A package blob that cannot be decoded: not gzip, truncated, not a tar, bad manifest YAML. */
export class AppRegistryBlobError extends AppRegistryError {
  override name = 'AppRegistryBlobError';
}

/** A package blob over one of the decoding caps (entries, per-file or total size): a bomb. */
export class AppRegistryBlobLimitError extends AppRegistryBlobError {
  override name = 'AppRegistryBlobLimitError';
}

/** A tar entry whose path could escape the manifests directory (absolute, `..`, NUL). */
export class AppRegistryUnsafeEntryError extends AppRegistryBlobError {
  override name = 'AppRegistryUnsafeEntryError';
}

/** One failure of one package, as collected by the list/fetch fan-outs. */
export interface PackageFailure {
  package: string;
  name: string;
  message: string;
  temporary: boolean;
}

/**
 * Several packages could not be listed or downloaded. Thrown once, after every package was
 * tried (upstream fails the build then too), by `packagesFailedError`, which picks the
 * temporary subclass when every failure was temporary.
 */
export class AppRegistryPackagesFailedError extends AppRegistryError {
  override name = 'AppRegistryPackagesFailedError';
  readonly failures: readonly PackageFailure[];
  constructor(
    action: string,
    failures: readonly PackageFailure[],
    total: number,
    temporary = false,
  ) {
    const lines = failures.map((f) => `${f.package}: ${f.name}: ${f.message}`);
    super(`${action}: ${failures.length} of ${total} packages failed: ${lines.join('; ')}`, {
      temporary,
    });
    this.failures = failures;
  }
}

/**
 * The same when every failure was temporary: its own name, so the state machine's Retry
 * (which matches names only) retries it while a permanent failure is not retried.
 */
export class AppRegistryPackagesUnavailableError extends AppRegistryPackagesFailedError {
  override name = 'AppRegistryPackagesUnavailableError';
  constructor(action: string, failures: readonly PackageFailure[], total: number) {
    super(action, failures, total, true);
  }
}

/** The error for the failed packages of a listing or fetch: temporary only if each one was. */
export function packagesFailedError(
  action: string,
  failures: readonly PackageFailure[],
  total: number,
): AppRegistryPackagesFailedError {
  return failures.length > 0 && failures.every((f) => f.temporary)
    ? new AppRegistryPackagesUnavailableError(action, failures, total)
    : new AppRegistryPackagesFailedError(action, failures, total);
}

/** One line per failed package, from whatever was thrown. */
export function packageFailure(pkg: string, err: unknown): PackageFailure {
  const e = err as { name?: string; message?: string; temporary?: boolean };
  return {
    package: pkg,
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    temporary: e?.temporary === true,
  };
}
