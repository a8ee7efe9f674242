// The HTTP half of the registry client, layered as go-containerregistry's transport is:
// ping (scheme + challenge, once per registry) → authorization (anonymous, Basic, or a Bearer
// token per scope set, refreshed on 401) → retry (temporary statuses and resets, Retry-After)
// → redirects (GET/HEAD only; Authorization dropped across origins). One undici Agent per
// transport carries the TLS choices: verified by default, an optional CA bundle added to the
// system roots, or — with `insecure` — unverified TLS and a fallback to plain HTTP. Sending,
// retrying, the temporary-failure rules and the per-registry bound (`--max-per-registry`,
// one slot per HTTP exchange, ping and token included) are lib/http's.
import { rootCertificates } from 'node:tls';
import { isTemporaryNetworkError } from '../http/classify.js';
import { HostLimiter } from '../http/limiter.js';
import {
  parseRetryAfter,
  type RetryOptions,
  type RetryPolicy,
  type RetryVerdict,
  retryPolicy,
  retryVerdict,
  withRetry,
} from '../http/retry.js';
import {
  BodyTooLargeError,
  effectiveTimeouts,
  type HttpBody,
  type HttpHeaders,
  type HttpRequest,
  type HttpResponse,
  header,
  type RequestLimits,
  readBody,
  readBodyPrefix,
  send,
  type Timeouts,
  timeoutAgent,
} from '../http/send.js';
import { registerSecret } from '../redact.js';
import {
  checkFollowTarget,
  checkRealmScheme,
  guardedConnectLookup,
  pinnedResolveAll,
  type ResolveAll,
  systemResolveAll,
} from './address-guard.js';
import {
  type Challenge,
  challengeScopes,
  isInsufficientScope,
  parseChallenges,
  pickChallenge,
} from './challenge.js';
import { anonymousKeychain, type Credential, type Keychain } from './keychain.js';
import {
  parseDiagnostics,
  RegistryAuthError,
  type RegistryErrorDetails,
  RegistryProtocolError,
  RegistryRequestError,
  RegistryScopeError,
  RegistryTlsError,
  registryErrorFromFailure,
  registryErrorFromResponse,
} from './registry-errors.js';

export interface TransportOptions {
  keychain?: Keychain;
  /** Plain HTTP allowed and TLS certificates not verified (container registries only). */
  insecure?: boolean;
  /** Extra trusted CA certificates (PEM), added to Node's root store. */
  caCertificates?: string[];
  userAgent?: string;
  retry?: RetryOptions;
  /** Concurrent requests per registry (`--max-per-registry`). Default 4. */
  maxPerRegistry?: number;
  /** A bound shared with other clients (wins over maxPerRegistry): one per build. */
  limiter?: HostLimiter;
  /**
   * Connect / response-headers / body-idle timeouts (lib/http's per-request limits; absent
   * fields take DEFAULT_TIMEOUTS): a registry that accepts and never answers fails, named.
   */
  limits?: Pick<RequestLimits, 'timeouts'>;
  /**
   * How host names resolve for the address guard and for connecting (all addresses of a
   * name). Default: the system resolver; tests supply names that resolve to metadata addresses.
   */
  resolveAll?: ResolveAll;
}

export type RequestBody = HttpBody;

/** One HTTP exchange as the client describes it. */
export interface RegistryCall {
  /** For messages: "pushing manifest", "checking blob", ... */
  action: string;
  /** For messages: "127.0.0.1:5000/ns/img:tag". */
  subject: string;
  registry: string;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under the registry root ("/v2/...") or an absolute URL (upload Location). */
  url: string;
  headers?: Record<string, string>;
  /** A factory so a retried call sends a fresh body. */
  body?: () => RequestBody;
  /** Token scopes, the most important first (push scope first). */
  scopes: string[];
  /** Statuses that count as success; anything else becomes a RegistryError. */
  expect: readonly number[];
  /** Retried on temporary failures (set for GET/HEAD/PUT manifest, and by upload restarts). */
  idempotent: boolean;
}

/** What a registry let us learn about pushing before any write (RegistryTransport.checkScope). */
export type PushAccess = 'open' | 'push granted' | 'credentials accepted';

export interface RegistryResponse extends HttpResponse {
  /** The URL that answered (after redirects). */
  url: string;
}

interface Session {
  /** "https://host:port" or "http://host:port". */
  base: string;
  challenge: Challenge | undefined;
}

interface CachedToken {
  scopes: Set<string>;
  token: string;
  expiresAt: number;
}

const ERROR_BODY_CAP = 64 * 1024;
const MAX_REDIRECTS = 5;
/** Refresh tokens this long before they expire, so a request never carries a dying one. */
const TOKEN_EXPIRY_MARGIN_MS = 10_000;
/** Docker Hub's API host differs from the name users write. */
const API_HOSTS: Record<string, string> = {
  'docker.io': 'registry-1.docker.io',
  'index.docker.io': 'registry-1.docker.io',
};

/** The host the HTTP API of `registry` answers on. */
export function apiHost(registry: string): string {
  return API_HOSTS[registry] ?? registry;
}

/** Largest token-endpoint answer read (real ones are a few kB, JWTs included). */
const TOKEN_BODY_CAP = 1024 * 1024;

/** Reads at most 64 KiB of a response body as text and releases the connection. */
function readErrorBody(body: HttpResponse['body']): Promise<string> {
  return readBodyPrefix(body, ERROR_BODY_CAP);
}

export { header as responseHeader };

/** Attaches the Retry-After wait to an error so the retry loop can honour it. */
interface WithRetryAfter {
  retryAfterMs?: number;
}

export class RegistryTransport {
  readonly keychain: Keychain;
  readonly insecure: boolean;
  readonly policy: RetryPolicy;
  readonly limiter: HostLimiter;
  /** The timeouts in force, for the agent and for the messages that name them. */
  readonly timeouts: Timeouts;
  private readonly agent: ReturnType<typeof timeoutAgent>;
  private readonly resolveAll: ResolveAll;
  private readonly userAgent: string;
  private readonly sessions = new Map<string, Promise<Session>>();
  private readonly tokens = new Map<string, CachedToken[]>();
  /** registry → repository → actions a token server granted less of than we asked. */
  private readonly denied = new Map<string, Map<string, Set<string>>>();

  constructor(options: TransportOptions = {}) {
    this.keychain = options.keychain ?? anonymousKeychain;
    this.insecure = options.insecure ?? false;
    this.policy = retryPolicy(options.retry);
    this.limiter = options.limiter ?? new HostLimiter(options.maxPerRegistry ?? 4);
    this.userAgent = options.userAgent ?? 'olm-catalog-builder';
    const ca = options.caCertificates?.length
      ? [...rootCertificates, ...options.caCertificates]
      : undefined;
    this.timeouts = effectiveTimeouts(options.limits?.timeouts);
    // One resolution per name for the transport's life: the address guard judges it and the
    // connections use it, so a name cannot answer differently in between (DNS rebinding).
    this.resolveAll = pinnedResolveAll(options.resolveAll ?? systemResolveAll);
    // Every connection resolves through the guard, on the pinned addresses: it goes where
    // checkFollowTarget looked, never to a later answer of the same name. A registry
    // that accepts the connection and never answers must not hang the build: the timeouts
    // are lib/http's one policy; a timeout is temporary and retried.
    this.agent = timeoutAgent(this.timeouts, {
      connect: {
        lookup: guardedConnectLookup(this.resolveAll),
        rejectUnauthorized: !this.insecure,
        ...(ca ? { ca } : {}),
      },
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Pings the registry once (scheme and auth challenge), cached for the transport's life. */
  session(registry: string): Promise<Session> {
    let s = this.sessions.get(registry);
    if (!s) {
      s = withRetry(
        this.policy,
        () => this.ping(registry),
        (err) => this.verdict(err),
      );
      this.sessions.set(registry, s);
      s.catch(() => this.sessions.delete(registry));
    }
    return s;
  }

  private async ping(registry: string): Promise<Session> {
    const host = apiHost(registry);
    const schemes = this.insecure ? ['https', 'http'] : ['https'];
    let lastError: unknown;
    for (const scheme of schemes) {
      const base = `${scheme}://${host}`;
      let res: HttpResponse;
      try {
        res = await this.request(registry, {
          url: `${base}/v2/`,
          method: 'GET',
          headers: { 'user-agent': this.userAgent },
        });
      } catch (err) {
        lastError = registryErrorFromFailure(
          'pinging',
          registry,
          err,
          `${base}/v2/`,
          this.timeouts,
        );
        continue;
      }
      const headers = res.headers;
      if (res.status === 200) {
        await res.body.dump();
        return { base, challenge: undefined };
      }
      if (res.status === 401) {
        await res.body.dump();
        const challenge = pickChallenge(parseChallenges(headers['www-authenticate']));
        if (!challenge) {
          throw new RegistryProtocolError(
            `pinging ${registry}: 401 without a Basic or Bearer challenge`,
            {
              status: 401,
              url: `${base}/v2/`,
            },
          );
        }
        return { base, challenge };
      }
      const text = await readErrorBody(res.body);
      throw this.annotate(
        registryErrorFromResponse('pinging', registry, res.status, text, `${base}/v2/`),
        headers,
      );
    }
    throw lastError;
  }

  /** The Authorization header for `scopes` on `registry`, or undefined (anonymous). */
  async authorization(
    registry: string,
    scopes: string[],
    session: Session,
    repository?: string,
  ): Promise<string | undefined> {
    const challenge = session.challenge;
    if (!challenge) return undefined;
    const cred = await this.keychain.resolve(
      registry,
      repository ?? parseScope(scopes[0])?.repository ?? '',
    );
    if (challenge.scheme === 'basic') return basicAuthorization(cred);
    if (cred?.registryToken) return `Bearer ${cred.registryToken}`;
    const now = this.policy.now();
    const cached = (this.tokens.get(registry) ?? []).find(
      (t) => t.expiresAt > now && scopes.every((s) => t.scopes.has(s)),
    );
    if (cached) return `Bearer ${cached.token}`;
    const fetched = await this.fetchToken(registry, challenge, scopes, cred);
    const list = (this.tokens.get(registry) ?? []).filter((t) => t.expiresAt > now);
    list.push(fetched);
    this.tokens.set(registry, list);
    return `Bearer ${fetched.token}`;
  }

  /**
   * What the registry lets us learn, before any work and without writing anything, about
   * `actions` on `repository` (a push: pull,push). No challenge: it asks for nothing. Basic
   * (ECR too): none configured is a RegistryAuthError at once, and an authenticated GET /v2/
   * tells whether the credentials are taken (RegistryAuthError), not their scope. Bearer: the
   * token server is asked for the scope now — wrong credentials are refused there — and a JWT
   * `access` claim granting fewer actions is the RegistryScopeError the push would end in.
   * A registry token from the auth file or an opaque token cannot tell: that is the answer.
   */
  async checkScope(
    registry: string,
    repository: string,
    actions: string[],
    subject: string,
  ): Promise<PushAccess> {
    const session = await this.session(registry);
    const challenge = session.challenge;
    if (!challenge) return 'open';
    const action = 'checking push access to';
    const scope = formatScope(repository, actions);
    const cred = await this.keychain.resolve(registry, repository);
    if (challenge.scheme === 'basic') {
      if (basicAuthorization(cred) === undefined)
        throw new RegistryAuthError(
          `${action} ${subject}: the registry asks for credentials and none are configured for ${registry}`,
        );
      const res = await this.send({
        action,
        subject,
        registry,
        method: 'GET',
        url: '/v2/',
        scopes: [scope],
        expect: [200],
        idempotent: true,
      });
      await res.body.dump().catch(() => undefined);
      return 'credentials accepted';
    }
    if (cred?.registryToken) return 'credentials accepted';
    await this.authorization(registry, [scope], session);
    const missing = this.deniedActions(registry, repository, actions);
    if (missing.length > 0)
      throw grantedFewer(`${action} ${subject}`, repository, actions, missing);
    const token = (this.tokens.get(registry) ?? []).find((t) => t.scopes.has(scope));
    return token && grantedActions(token.token) ? 'push granted' : 'credentials accepted';
  }

  private dropTokens(registry: string, scopes: string[]): void {
    const list = this.tokens.get(registry);
    if (list)
      this.tokens.set(
        registry,
        list.filter((t) => !scopes.every((s) => t.scopes.has(s))),
      );
  }

  private async fetchToken(
    registry: string,
    challenge: Challenge,
    scopes: string[],
    cred: Credential | undefined,
  ): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm)
      throw new RegistryProtocolError(
        `getting token for ${registry}: Bearer challenge without realm`,
      );
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryProtocolError(`getting token for ${registry}: invalid realm`);
    }
    checkRealmScheme(url, `getting token for ${registry}`);
    await checkFollowTarget(url, registry, `getting token for ${registry}`, this.resolveAll);
    if (url.protocol === 'http:' && !this.insecure && !isLoopback(url.hostname)) {
      throw new RegistryProtocolError(
        `getting token for ${registry}: realm ${url.origin} is plain HTTP (use --insecure)`,
      );
    }
    const service = challenge.params.service;
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    if (cred?.identityToken) {
      // OAuth2 refresh-token grant (docker login with an identity token).
      method = 'POST';
      const form = new URLSearchParams();
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', cred.identityToken);
      form.set('client_id', this.userAgent);
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      body = form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const basic = basicAuthorization(cred);
      if (basic) headers.authorization = basic;
    }
    const res = await withRetry(
      this.policy,
      async () => {
        let r: HttpResponse;
        try {
          r = await this.request(url.host, { url, method, headers, ...(body ? { body } : {}) });
        } catch (err) {
          throw registryErrorFromFailure(
            'getting token for',
            registry,
            err,
            url.href,
            this.timeouts,
          );
        }
        if (r.status !== 200) {
          const text = await readErrorBody(r.body);
          throw this.annotate(
            registryErrorFromResponse(
              'getting token for',
              registry,
              r.status,
              text,
              url.href,
              method,
            ),
            r.headers,
          );
        }
        return r;
      },
      (err) => this.verdict(err),
    );
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      // A token answer is a few kB; a 700 MB one is refused at the cap, not read whole.
      parsed = JSON.parse(
        (await readBody(res.body, TOKEN_BODY_CAP)).toString('utf8'),
      ) as typeof parsed;
    } catch (err) {
      if (err instanceof BodyTooLargeError)
        throw new RegistryProtocolError(
          `getting token for ${registry}: the answer is larger than ${TOKEN_BODY_CAP} bytes (a token answer is a few kB)`,
          { url: url.href },
        );
      throw new RegistryProtocolError(`getting token for ${registry}: answer is not JSON`, {
        url: url.href,
      });
    }
    const token =
      typeof parsed.token === 'string' && parsed.token ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || !token) {
      throw new RegistryProtocolError(`getting token for ${registry}: answer has no token`, {
        url: url.href,
      });
    }
    registerSecret(token);
    this.noteDenied(registry, scopes, token);
    // Tokens without expires_in are valid for 60 s per the distribution token spec.
    const lifetime =
      typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
    return {
      scopes: new Set(scopes),
      token,
      expiresAt: this.policy.now() + Math.max(1000, lifetime * 1000 - TOKEN_EXPIRY_MARGIN_MS),
    };
  }

  /** Sends a call with auth, redirects and (when idempotent) retries; non-`expect` → error. */
  send(call: RegistryCall): Promise<RegistryResponse> {
    if (!call.idempotent) return this.sendOnce(call);
    return withRetry(
      this.policy,
      () => this.sendOnce(call),
      (err) => this.verdict(err),
    );
  }

  /** One attempt (auth refresh on 401 included, retries not). Used by upload restarts. */
  async sendOnce(call: RegistryCall): Promise<RegistryResponse> {
    const session = await this.session(call.registry);
    let scopes = call.scopes;
    for (let authAttempt = 0; ; authAttempt++) {
      const auth = await this.authorization(call.registry, scopes, session);
      const res = await this.exchange(call, session, auth);
      if (res.status === 401 && authAttempt === 0 && session.challenge) {
        const challenge = pickChallenge(parseChallenges(res.headers['www-authenticate']));
        await res.body.dump().catch(() => undefined);
        if (isInsufficientScope(challenge)) {
          const extra = challengeScopes(challenge).filter((s) => !scopes.includes(s));
          this.dropTokens(call.registry, scopes);
          scopes = [...scopes, ...extra];
        } else {
          // Expired token or rotated credentials (ECR): forget both and ask again once.
          this.dropTokens(call.registry, scopes);
          this.keychain.invalidate?.(call.registry);
        }
        continue;
      }
      if (call.expect.includes(res.status)) return res;
      const text = call.method === 'HEAD' ? '' : await readErrorBody(res.body);
      if (call.method === 'HEAD') await res.body.dump().catch(() => undefined);
      if ((res.status === 401 || res.status === 403) && session.challenge?.scheme !== 'basic') {
        const scopeError = this.scopeError(call, scopes, res, text, authAttempt > 0);
        if (scopeError) throw scopeError;
      }
      throw this.annotate(
        registryErrorFromResponse(
          call.action,
          call.subject,
          res.status,
          text,
          res.url,
          call.method,
        ),
        res.headers,
      );
    }
  }

  private async exchange(
    call: RegistryCall,
    session: Session,
    auth: string | undefined,
  ): Promise<RegistryResponse> {
    let url = new URL(call.url, `${session.base}/`);
    const origin = url.origin;
    const registryOrigin = new URL(`${session.base}/`).origin;
    const guard = async (target: URL) => {
      if (target.origin !== registryOrigin)
        await checkFollowTarget(
          target,
          call.registry,
          `${call.action} ${call.subject}`,
          this.resolveAll,
        );
    };
    await guard(url);
    const follow = call.method === 'GET' || call.method === 'HEAD';
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': this.userAgent, ...call.headers };
      if (auth && url.origin === origin) headers.authorization = auth;
      let res: HttpResponse;
      try {
        res = await this.request(call.registry, {
          url,
          method: call.method,
          headers,
          ...(call.body ? { body: call.body() } : {}),
        });
      } catch (err) {
        throw registryErrorFromFailure(call.action, call.subject, err, url.href, this.timeouts);
      }
      const resHeaders = res.headers;
      const location = header(resHeaders, 'location');
      if (
        follow &&
        [301, 302, 303, 307, 308].includes(res.status) &&
        location &&
        hop < MAX_REDIRECTS
      ) {
        await res.body.dump().catch(() => undefined);
        url = new URL(location, url);
        await guard(url);
        continue;
      }
      return { status: res.status, headers: resHeaders, body: res.body, url: url.href };
    }
  }

  /** One exchange through the agent, counted against `key`'s slots (the registry's name). */
  private request(key: string, req: Omit<HttpRequest, 'dispatcher' | 'limiter'>) {
    return send({ ...req, dispatcher: this.agent, limiter: this.limiter, limitKey: key });
  }

  /**
   * What the token server left out, read from the JWT's `access` claim (distribution's token
   * format); opaque tokens tell nothing and leave the second-refusal rule in scopeError.
   */
  private noteDenied(registry: string, scopes: string[], token: string): void {
    const granted = grantedActions(token);
    if (!granted) return;
    for (const scope of scopes) {
      const parsed = parseScope(scope);
      if (!parsed) continue;
      const have = granted.get(parsed.repository) ?? new Set<string>();
      const missing = parsed.actions.filter((a) => !have.has(a) && !have.has('*'));
      const repos = this.denied.get(registry) ?? new Map<string, Set<string>>();
      this.denied.set(registry, repos);
      if (missing.length > 0) repos.set(parsed.repository, new Set(missing));
      else repos.delete(parsed.repository);
    }
  }

  /**
   * A 401/403 that the token server or the registry lets us explain: the token granted fewer
   * actions than asked, or the registry refused the same scope again after a fresh token.
   */
  private scopeError(
    call: RegistryCall,
    scopes: string[],
    res: RegistryResponse,
    text: string,
    refreshed: boolean,
  ): RegistryScopeError | undefined {
    const what = `${call.action} ${call.subject}`;
    const details = { status: res.status, url: res.url, diagnostics: parseDiagnostics(text) };
    const asked = scopes.map(parseScope).filter((x) => x !== undefined);
    for (const { repository, actions } of asked) {
      const missing = this.deniedActions(call.registry, repository, actions);
      if (missing.length > 0) return grantedFewer(what, repository, actions, missing, details);
    }
    if (!refreshed) return undefined;
    const challenge = pickChallenge(parseChallenges(res.headers['www-authenticate']));
    if (!isInsufficientScope(challenge)) return undefined;
    for (const scope of challengeScopes(challenge).map(parseScope)) {
      if (!scope) continue;
      const mine = asked.find((a) => a.repository === scope.repository);
      if (mine && scope.actions.every((a) => mine.actions.includes(a)))
        return lackingScope(
          what,
          scope.actions.join(','),
          scope.repository,
          'refused again with a fresh token',
          details,
        );
    }
    return undefined;
  }

  /** Which of `actions` on `repository` a token server granted us less of (noteDenied). */
  private deniedActions(registry: string, repository: string, actions: string[]): string[] {
    const denied = this.denied.get(registry)?.get(repository);
    return actions.filter((a) => denied?.has(a));
  }

  private annotate(err: RegistryRequestError, headers: HttpHeaders): RegistryRequestError {
    const ms = parseRetryAfter(header(headers, 'retry-after'), this.policy.now());
    if (ms !== undefined) (err as RegistryRequestError & WithRetryAfter).retryAfterMs = ms;
    return err;
  }

  /** Whether an error is worth another attempt, and how long the server asked us to wait. */
  verdict(err: unknown): RetryVerdict {
    if (err instanceof RegistryTlsError || err instanceof RegistryAuthError)
      return { retry: false };
    if (err instanceof RegistryRequestError) return retryVerdict(err.temporary, err);
    // A body that fails while we read it (reset mid-stream) is not a RegistryError yet.
    return retryVerdict(isTemporaryNetworkError(err));
  }
}

/**
 * `repository:ns/img:pull,push` from a repository and its actions, as token servers and
 * challenges spell a scope; parseScope reads it back. The client's pull and push scopes and
 * the push preflight's are built here, so a token fetched by one is found by the others.
 */
export function formatScope(repository: string, actions: readonly string[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

/**
 * `Basic base64(user:password)` for a credential with both (the registry's Basic challenge
 * and the token server's GET take it alike), or undefined: none to send.
 */
function basicAuthorization(cred: Credential | undefined): string | undefined {
  return cred?.username !== undefined && cred.password !== undefined
    ? `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`
    : undefined;
}

/** `repository:ns/img:pull,push` → its repository and actions (other scope types: undefined). */
function parseScope(
  scope: string | undefined,
): { repository: string; actions: string[] } | undefined {
  const parts = scope?.split(':') ?? [];
  if (parts.length < 3 || parts[0] !== 'repository') return undefined;
  return {
    repository: parts.slice(1, -1).join(':'),
    actions: parts[parts.length - 1]!.split(',').filter((a) => a.length > 0),
  };
}

/** The `access` claim of a JWT token as repository → actions, or undefined (opaque token). */
function grantedActions(token: string): Map<string, Set<string>> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  let claims: { access?: unknown };
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return undefined;
  }
  if (!Array.isArray(claims.access)) return undefined;
  const out = new Map<string, Set<string>>();
  for (const entry of claims.access as Array<Record<string, unknown>>) {
    if (entry?.type !== 'repository' || typeof entry.name !== 'string') continue;
    const actions = Array.isArray(entry.actions) ? entry.actions.map(String) : [];
    const set = out.get(entry.name) ?? new Set<string>();
    for (const a of actions) set.add(a);
    out.set(entry.name, set);
  }
  return out;
}

/**
 * The one wording of a scope refusal, the push preflight's and a refused request's alike:
 * "<what>: the credentials lack <actions> scope on repository <repository> (<how we know>)".
 * Tests and users match on it (push-scope, real-registry, preflight).
 */
function lackingScope(
  what: string,
  lacking: string,
  repository: string,
  evidence: string,
  details?: RegistryErrorDetails,
): RegistryScopeError {
  return new RegistryScopeError(
    `${what}: the credentials lack ${lacking} scope on repository ${repository} (${evidence})`,
    details,
  );
}

/** A token server granted `asked` less `missing` (its JWT `access` claim says so). */
function grantedFewer(
  what: string,
  repository: string,
  asked: string[],
  missing: string[],
  details?: RegistryErrorDetails,
): RegistryScopeError {
  const granted = asked.filter((a) => !missing.includes(a));
  const evidence = `the token server granted ${granted.length > 0 ? `${granted.join(',')} only` : 'none of them'}`;
  return lackingScope(what, missing.join(' and '), repository, evidence, details);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
}
