// The concrete errors of the container-registry adapter. Each is a RegistryError with a stable
// `name` (Step Functions and the CLI match on it), the HTTP status, the distribution-spec
// diagnostics (`{errors:[{code,message,detail}]}`, read under a 64 KiB cap) and the request URL
// with credentials redacted. Which class a response becomes is decided in one place
// (`registryErrorFromResponse`) so the retry policy and the messages agree.
import { RegistryError } from '../errors.js';
import { errorCode, isTemporaryNetworkError, isTemporaryStatus } from '../http/classify.js';
import { DEFAULT_TIMEOUTS, describeTimeout, type Timeouts, timeoutKind } from '../http/send.js';
import { redactUrl } from '../redact.js';

/** One entry of a distribution-spec error body. */
export interface DistributionDiagnostic {
  code: string;
  message?: string;
  detail?: unknown;
}

export interface RegistryErrorDetails {
  status?: number;
  diagnostics?: DistributionDiagnostic[];
  /** Redacted URL of the failing request. */
  url?: string;
  cause?: unknown;
}

/** Shared shape of every registry error: status, diagnostics and redacted URL. */
export class RegistryRequestError extends RegistryError {
  override name = 'RegistryRequestError';
  readonly status: number | undefined;
  readonly diagnostics: DistributionDiagnostic[];
  readonly url: string | undefined;
  constructor(message: string, details: RegistryErrorDetails = {}, temporary = false) {
    super(message, { temporary, cause: details.cause });
    this.status = details.status;
    this.diagnostics = details.diagnostics ?? [];
    this.url = details.url === undefined ? undefined : redactUrl(details.url);
  }
  /** The distribution error codes, e.g. ['MANIFEST_UNKNOWN']. */
  get codes(): string[] {
    return this.diagnostics.map((d) => d.code);
  }
}

/** 401/403: missing, wrong or insufficient credentials. */
export class RegistryAuthError extends RegistryRequestError {
  override name = 'RegistryAuthError';
}

/**
 * 401/403 where the token server or registry shows why: the credentials work but lack the
 * push (or pull) action on the repository. Not retried; the message names scope and repository.
 */
export class RegistryScopeError extends RegistryAuthError {
  override name = 'RegistryScopeError';
}

/** 404 or MANIFEST_UNKNOWN / BLOB_UNKNOWN / NAME_UNKNOWN. */
export class RegistryNotFoundError extends RegistryRequestError {
  override name = 'RegistryNotFoundError';
}

/** 429 / TOOMANYREQUESTS: retrying later may help. */
export class RegistryRateLimitedError extends RegistryRequestError {
  override name = 'RegistryRateLimitedError';
  constructor(message: string, details: RegistryErrorDetails = {}) {
    super(message, details, true);
  }
}

/**
 * 408, 5xx (incl. 499/522 from proxies), or no answer at all. Temporary unless lib/http's
 * classification says a retry cannot cure the failure (e.g. plain HTTP spoken to a TLS port).
 */
export class RegistryUnavailableError extends RegistryRequestError {
  override name = 'RegistryUnavailableError';
  constructor(message: string, details: RegistryErrorDetails = {}, temporary = true) {
    super(message, details, temporary);
  }
}

/**
 * No answer within a timeout (connect, response headers): a registry that accepted the
 * connection and then said nothing. Temporary (retried); the message names the limit.
 */
export class RegistryTimeoutError extends RegistryUnavailableError {
  override name = 'RegistryTimeoutError';
}

/** Content whose sha256 is not the digest it was asked for or announced with. */
export class RegistryDigestMismatchError extends RegistryRequestError {
  override name = 'RegistryDigestMismatchError';
}

/** The TLS handshake failed: untrusted or invalid certificate (not retried). */
export class RegistryTlsError extends RegistryRequestError {
  override name = 'RegistryTlsError';
}

/** An answer the protocol does not allow (unexpected status, missing Location, bad JSON). */
export class RegistryProtocolError extends RegistryRequestError {
  override name = 'RegistryProtocolError';
}

/**
 * A realm, redirect, upload Location or connection that would take us to an address the
 * guard forbids (`lib/registry/address-guard.ts`): link-local/metadata always, private and
 * loopback from a public registry. Never retried.
 */
export class RegistryAddressRefusedError extends RegistryProtocolError {
  override name = 'RegistryAddressRefusedError';
}

/** A token realm that is not an http(s) URL (`file:`, `ftp:`, `data:` …). Never retried. */
export class RegistryRealmSchemeError extends RegistryProtocolError {
  override name = 'RegistryRealmSchemeError';
}

/**
 * An image manifest, index or config larger than the cap on documents read whole
 * (`--max-manifest-size`, 4 MiB by default): reading stops at the cap. Never retried.
 */
export class ImageDocumentLimitError extends RegistryProtocolError {
  override name = 'ImageDocumentLimitError';
}

const NOT_FOUND_CODES = new Set(['MANIFEST_UNKNOWN', 'BLOB_UNKNOWN', 'NAME_UNKNOWN']);

/** Parses a distribution error body; anything else gives no diagnostics. */
export function parseDiagnostics(body: string): DistributionDiagnostic[] {
  if (!body) return [];
  try {
    const parsed = JSON.parse(body) as { errors?: unknown };
    if (!Array.isArray(parsed.errors)) return [];
    return parsed.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .map((e) => ({
        code: typeof e.code === 'string' ? e.code : 'UNKNOWN',
        ...(typeof e.message === 'string' ? { message: e.message } : {}),
        ...(e.detail === undefined ? {} : { detail: e.detail }),
      }));
  } catch {
    return [];
  }
}

/**
 * The error for a non-success response to `<action> <subject>` (e.g. "pushing manifest",
 * "127.0.0.1:5000/ns/img:tag"). The message reads
 * "pushing manifest 127.0.0.1:5000/ns/img:tag: 401 UNAUTHORIZED authentication required".
 */
export function registryErrorFromResponse(
  action: string,
  subject: string,
  status: number,
  body: string,
  url: string,
  method = 'GET',
): RegistryRequestError {
  const diagnostics = parseDiagnostics(body);
  const codes = new Set(diagnostics.map((d) => d.code));
  let cause: string;
  if (diagnostics.length > 0) {
    cause = diagnostics
      .map((d) => [d.code, d.message].filter((s) => s && s.length > 0).join(' '))
      .join('; ');
  } else if (method === 'HEAD') {
    cause = 'no body (HEAD response)';
  } else {
    cause = body.trim().slice(0, 200).replace(/\s+/g, ' ') || 'no error details';
  }
  const message = `${action} ${subject}: ${status} ${cause}`;
  const details = { status, diagnostics, url };
  if (status === 401 || status === 403 || codes.has('UNAUTHORIZED') || codes.has('DENIED')) {
    return new RegistryAuthError(message, details);
  }
  if (status === 404 || [...codes].some((c) => NOT_FOUND_CODES.has(c))) {
    return new RegistryNotFoundError(message, details);
  }
  if (status === 429 || codes.has('TOOMANYREQUESTS')) {
    return new RegistryRateLimitedError(message, details);
  }
  if (isTemporaryStatus(status) || codes.has('UNAVAILABLE')) {
    return new RegistryUnavailableError(message, details);
  }
  if (codes.has('DIGEST_INVALID')) return new RegistryDigestMismatchError(message, details);
  return new RegistryProtocolError(message, details);
}

const TLS_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

/** The error for a request that got no response at all (reset, refused, timeout, TLS). */
export function registryErrorFromFailure(
  action: string,
  subject: string,
  err: unknown,
  url: string,
  timeouts: Timeouts = DEFAULT_TIMEOUTS,
): RegistryRequestError {
  // The connect-time address check (a name that resolved to a forbidden address while
  // connecting) surfaces here wrapped by undici: keep its name, never retry it.
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; depth++, e = e.cause) {
    if (e instanceof RegistryAddressRefusedError)
      return new RegistryAddressRefusedError(`${action} ${subject}: ${e.message}`, {
        url,
        cause: err,
      });
  }
  const code = errorCode(err);
  const text = err instanceof Error ? err.message : String(err);
  const timeout = timeoutKind(err);
  if (timeout) return registryTimeoutError(action, subject, timeout, url, err, timeouts);
  if (code && TLS_ERROR_CODES.has(code)) {
    return new RegistryTlsError(
      `${action} ${subject}: TLS certificate not trusted (${code}); pass a CA bundle or --insecure (in a build request: "insecure": true)`,
      { url, cause: err },
    );
  }
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
  if (
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    /wrong version number|ERR_SSL_WRONG_VERSION_NUMBER|packet length too long/i.test(
      `${text} ${cause}`,
    )
  ) {
    // OpenSSL's words for "the other end does not speak TLS": say what to do instead.
    return new RegistryTlsError(
      `${action} ${subject}: the registry does not answer TLS on this port (it may serve plain HTTP: pass --insecure, in a build request "insecure": true)`,
      { url, cause: err },
    );
  }
  return new RegistryUnavailableError(
    `${action} ${subject}: ${code ?? 'connection failed'} ${text}`.trim(),
    { url, cause: err },
    isTemporaryNetworkError(err),
  );
}

const TIMEOUT_WHAT: Record<keyof Timeouts, string> = {
  connectMs: 'no connection could be made',
  headersMs: 'the registry accepted the connection but sent no response headers',
  bodyMs: 'the registry stopped sending the body',
};

/**
 * A RegistryTimeoutError naming which limit ran out and how to raise it (the flag and the
 * build request field): "… sent no response headers within the headers timeout (30000 ms;
 * raise it with --headers-timeout or the build request's timeouts.headersMs)".
 */
export function registryTimeoutError(
  action: string,
  subject: string,
  kind: keyof Timeouts,
  url: string | undefined,
  cause: unknown,
  timeouts: Timeouts = DEFAULT_TIMEOUTS,
): RegistryTimeoutError {
  return new RegistryTimeoutError(
    `${action} ${subject}: ${TIMEOUT_WHAT[kind]} within ${describeTimeout(kind, timeouts[kind])}`,
    { ...(url ? { url } : {}), cause },
  );
}
