// Keeps credentials out of messages and logs: URLs lose their userinfo and secret-looking query
// parameters, header maps lose Authorization/Cookie values. Used by every adapter before a URL
// or header reaches an error message or a log line.

const SECRET_QUERY_KEYS =
  /^(?:access_token|token|password|secret|sig|signature|x-amz-signature|x-amz-security-token|x-amz-credential)$/i;
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-registry-auth',
]);

/** The URL without user:password@ and with secret query values replaced by "REDACTED". */
export function redactUrl(input: string | URL): string {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return String(input).replace(/\/\/[^/@\s]*@/, '//');
  }
  url.username = '';
  url.password = '';
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_QUERY_KEYS.test(key)) url.searchParams.set(key, 'REDACTED');
  }
  return url.toString();
}

/** A copy of the headers with credential-bearing values replaced by "REDACTED". */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(headers))
    out[k] = SECRET_HEADERS.has(k.toLowerCase()) ? 'REDACTED' : v;
  return out;
}

/** Replaces each known secret value (tokens, passwords) found in `text` by "REDACTED". */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('REDACTED');
  }
  return out;
}
