// Keeps credentials out of everything we write: the one redactor. Two halves:
// - by shape: URL user-info and secret-looking query values, header maps' Authorization and
//   Cookie values, and any "Basic …"/"Bearer …" credential in free text (a server that echoes
//   our Authorization header back in an error body is quoted without it);
// - by value: every credential this process sent or was given (App Registry token, registry
//   passwords and tokens, secrets from Secrets Manager) is registered once, with the forms it
//   travels in (base64 alone and as user:password, base64url, URL-encoded), and removed
//   wherever it shows up.
// The boundaries call `redactText`/`redactValue`: the CLI console and error line, the store's
// JSON records (request, stage records, reports, snapshots) and report.md, handler logs.

const SECRET_QUERY_KEYS =
  /^(?:access_token|token|password|passwd|pwd|secret|api_key|apikey|key|auth|sig|signature|x-amz-signature|x-amz-security-token|x-amz-credential)$/i;
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-registry-auth',
]);
/**
 * Shorter values are not registered: they would redact ordinary words in records that are
 * read back (package names, secret names). Their encoded forms (base64 of user:password) are
 * long enough and still are, and Basic/Bearer credentials go by shape whatever their length.
 */
const MIN_SECRET_LENGTH = 8;
const REDACTED = 'REDACTED';

const known = new Set<string>();
/** Longest first, so a secret that contains another is removed whole. */
let ordered: string[] = [];

function add(value: string | undefined): void {
  if (!value || value.length < MIN_SECRET_LENGTH || known.has(value)) return;
  known.add(value);
  ordered = [...known].sort((a, b) => b.length - a.length);
}

/**
 * Registers a credential (and its usual encodings) for removal from every later output.
 * `user` adds the base64 of `user:secret`, the form a Basic Authorization header carries.
 */
export function registerSecret(secret: string | undefined, user?: string): void {
  if (!secret) return;
  add(secret);
  add(Buffer.from(secret).toString('base64'));
  add(Buffer.from(secret).toString('base64url'));
  add(encodeURIComponent(secret));
  if (user !== undefined) {
    const pair = Buffer.from(`${user}:${secret}`);
    add(pair.toString('base64'));
    add(pair.toString('base64url'));
  }
}

/** Registers the user-info password and secret query values of a URL we were given. */
export function registerUrlSecrets(input: string | URL): void {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return;
  }
  if (url.password)
    registerSecret(decodeURIComponent(url.password), decodeURIComponent(url.username));
  else if (url.username) registerSecret(decodeURIComponent(url.username));
  for (const [key, value] of url.searchParams)
    if (SECRET_QUERY_KEYS.test(key)) registerSecret(value);
}

/** For tests: forget every registered secret. */
export function clearRegisteredSecrets(): void {
  known.clear();
  ordered = [];
}

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
    if (SECRET_QUERY_KEYS.test(key)) url.searchParams.set(key, REDACTED);
  }
  return url.toString();
}

/** A copy of the headers with credential-bearing values replaced by "REDACTED". */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(headers))
    out[k] = SECRET_HEADERS.has(k.toLowerCase()) ? REDACTED : v;
  return out;
}

/** Replaces each given secret value (tokens, passwords) found in `text` by "REDACTED". */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join(REDACTED);
  }
  return out;
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
// Not a challenge's parameters (`Bearer realm="…"`), which are no credential.
const CREDENTIAL_IN_TEXT =
  /\b(Basic|Bearer)(\s+|%20)(?!(?:realm|scope|service|error|charset)=)[A-Za-z0-9+/=._~-]{6,}/gi;
const SECRET_PAIR_IN_TEXT =
  /((?:"|\b)(?:access_token|refresh_token|token|password|secret|identitytoken|registrytoken)"?\s*[:=]\s*"?)([^"\s,&}]{4,})/gi;

export interface RedactOptions {
  /**
   * Leave secret-looking query values of URLs nobody registered (a webhook's capability URL
   * in a stored request, which the report stage must still post to). Registered secrets,
   * user-info and credentials are removed all the same.
   */
  keepQuery?: boolean;
}

function stripUserInfo(u: string): string {
  return u.replace(/^([^/]*\/\/)[^/?#]*@/, '$1');
}

/** The `"token": "…"` form only, for text whose `token=` query values are kept. */
const SECRET_PAIR_COLON =
  /((?:"|\b)(?:access_token|refresh_token|token|password|secret|identitytoken|registrytoken)"?\s*:\s*"?)([^"\s,&}]{4,})/gi;

/**
 * `text` without any registered secret, URL credentials, `Basic`/`Bearer` credentials or
 * `"token": "…"`-style pairs. Safe on any text: what is not secret-shaped stays byte for byte.
 */
export function redactText(text: string, options: RedactOptions = {}): string {
  let out = text;
  for (const s of ordered) if (out.includes(s)) out = out.split(s).join(REDACTED);
  out = out.replace(URL_IN_TEXT, (u) => {
    if (!/^[^/]*\/\/[^/?#]*@/.test(u) && !/[?&][^=&#]+=/.test(u)) return u;
    const q = u.indexOf('?');
    const hasSecretQuery =
      q !== -1 &&
      u
        .slice(q + 1)
        .split('&')
        .some((kv) => SECRET_QUERY_KEYS.test(kv.split('=')[0] ?? ''));
    if (/^[^/]*\/\/[^/?#]*@/.test(u)) return options.keepQuery ? stripUserInfo(u) : redactUrl(u);
    return hasSecretQuery && !options.keepQuery ? redactUrl(u) : u;
  });
  out = out.replace(
    CREDENTIAL_IN_TEXT,
    (_m, scheme: string, space: string) => `${scheme}${space}${REDACTED}`,
  );
  out = out.replace(
    options.keepQuery ? SECRET_PAIR_COLON : SECRET_PAIR_IN_TEXT,
    (m, prefix: string, value: string) => (value === REDACTED ? m : `${prefix}${REDACTED}`),
  );
  return out;
}

/** A deep copy of a JSON-like value with every string (keys excepted) passed through redactText. */
export function redactValue<T>(value: T, options: RedactOptions = {}): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactText(v, options);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = walk(item);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}
