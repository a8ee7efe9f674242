// Parsing of `WWW-Authenticate` (RFC 7235 challenges) as registries send it. Written as a small
// scanner rather than a split on commas because scope values carry commas inside quotes
// (`scope="repository:a/b:pull,push"`), one header may hold several challenges, and quoted
// strings may hold escaped quotes. The scheme we use is the first Basic or Bearer one offered.

export interface Challenge {
  /** Auth scheme, lower-cased ("bearer", "basic", ...). */
  scheme: string;
  /** Parameters by lower-cased name; values unquoted and unescaped. */
  params: Record<string, string>;
  /** A token68 form (`Negotiate abc==`), when the challenge used one. */
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/** Every challenge of one or several WWW-Authenticate header values, in order. */
export function parseChallenges(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (typeof header !== 'string') return header.flatMap((h) => parseChallenges(h));
  const s = header;
  const out: Challenge[] = [];
  let i = 0;

  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const skipWsAndCommas = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    // s[i] === '"'
    i++;
    let v = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote (or end of input)
    return v;
  };
  const readBare = (): string => {
    const start = i;
    while (i < s.length && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
    return s.slice(start, i);
  };
  /** True when a `name =` parameter starts at i (without moving). */
  const paramAhead = (): boolean => {
    const save = i;
    const name = readToken();
    skipWs();
    const ok = name.length > 0 && s[i] === '=';
    i = save;
    return ok;
  };

  while (i < s.length) {
    skipWsAndCommas();
    const scheme = readToken();
    if (!scheme) {
      // Garbage we cannot read as a challenge: skip to the next comma.
      while (i < s.length && s[i] !== ',') i++;
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skipWs();
    // token68 form: one token68 alone up to a comma or the end (`Negotiate abc==`).
    const t68 = TOKEN68.exec(s.slice(i));
    if (t68) {
      const after = i + t68[0].length;
      let j = after;
      while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
      if (j >= s.length || s[j] === ',') {
        challenge.token68 = t68[0];
        i = j;
        continue;
      }
    }
    // auth-params until something that is not `name=`.
    while (i < s.length && paramAhead()) {
      const name = readToken().toLowerCase();
      skipWs();
      i++; // '='
      skipWs();
      // Unquoted values are tokens by the RFC; registries sometimes send URLs bare, so read
      // up to the next comma or space instead.
      const value = s[i] === '"' ? readQuoted() : readBare();
      challenge.params[name] = value;
      skipWs();
      if (s[i] !== ',') break;
      // After a comma: either another parameter or the next challenge.
      const save = i;
      skipWsAndCommas();
      if (!paramAhead()) {
        i = save;
        break;
      }
    }
  }
  return out;
}

/** The first Basic or Bearer challenge (the only schemes registries use for v2). */
export function pickChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer' || c.scheme === 'basic');
}

/** Scopes a Bearer challenge names (space-separated in `scope`). */
export function challengeScopes(challenge: Challenge | undefined): string[] {
  const scope = challenge?.params.scope;
  return scope ? scope.split(' ').filter((x) => x.length > 0) : [];
}

/** True when a 401 says the token lacked a scope (so a new token with it added may pass). */
export function isInsufficientScope(challenge: Challenge | undefined): boolean {
  return challenge?.params.error === 'insufficient_scope';
}

/** Quotes a parameter value for a header (used by the test servers and property tests). */
export function quoteParam(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** Serialises challenges back into one header value (the inverse of parseChallenges). */
export function formatChallenges(challenges: readonly Challenge[]): string {
  return challenges
    .map((c) => {
      if (c.token68 !== undefined) return `${c.scheme} ${c.token68}`;
      const params = Object.entries(c.params).map(([k, v]) => `${k}=${quoteParam(v)}`);
      return params.length ? `${c.scheme} ${params.join(',')}` : c.scheme;
    })
    .join(', ');
}
