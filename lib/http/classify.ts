// The one answer to "may the same request succeed later?" for every HTTP client: which
// statuses and which network error codes are temporary. Clients turn a failure into their
// own named error (RegistryUnavailableError, AppRegistryUnavailableError, a webhook note),
// but they all ask here, so a reset or a 503 means the same thing everywhere.

/**
 * Timeouts (408), rate limits (429), nginx's client-closed 499, and the 5xx family except
 * 501 Not Implemented and 505 HTTP Version Not Supported, which no retry cures (522 and the
 * other proxy codes are 5xx too).
 */
export function isTemporaryStatus(status: number): boolean {
  if (status === 408 || status === 429 || status === 499) return true;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

/** Network failures worth another attempt: resets, timeouts, refused, DNS hiccups, cut bodies. */
export const TEMPORARY_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/**
 * The most specific `code` of a Node/undici error or of its causes, e.g. ECONNRESET under
 * undici's generic UND_ERR_SOCKET; the top-level code when none is more specific.
 */
export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR') return code;
    e = (e as { cause?: unknown }).cause;
  }
  const top = (err as { code?: unknown } | undefined)?.code;
  return typeof top === 'string' ? top : undefined;
}

/** Whether a request that got no (complete) response failed in a way a retry may cure. */
export function isTemporaryNetworkError(err: unknown): boolean {
  const specific = errorCode(err);
  const top = (err as { code?: unknown } | undefined)?.code;
  return (
    (specific !== undefined && TEMPORARY_NETWORK_CODES.has(specific)) ||
    (typeof top === 'string' && TEMPORARY_NETWORK_CODES.has(top))
  );
}
