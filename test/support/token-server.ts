// A Docker-registry token server for tests (distribution token spec): GET /token with Basic
// credentials, `service` and repeated `scope` parameters answers an RS256 JWT whose `access`
// claim holds only the actions the user is granted on each requested repository. The signing
// key and certificate come from openssl; the registry trusts the certificate through
// `auth.token.rootcertbundle` and we name it in the JWT header both as `x5c` and as the
// libtrust `kid` that distribution 2.x looks up.
//
//   const tokens = await startTokenServer({ dir, users: { alice: 'pw' },
//     grants: { alice: { 'team/*': ['pull', 'push'] } } });
//   tokens.realm, tokens.certFile, tokens.issued (log of issued scopes), await tokens.stop()

import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { listenOnLoopback } from './loopback-server.js';

export interface TokenServerOptions {
  /** Directory for the key and certificate. */
  dir: string;
  service?: string;
  issuer?: string;
  /** username → password. */
  users: Record<string, string>;
  /** username → repository pattern (`*` matches any run of characters) → allowed actions. */
  grants: Record<string, Record<string, string[]>>;
  /** Also answer under `access_token` instead of `token` (client compatibility). */
  useAccessTokenField?: boolean;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** One entry per issued token: user and the granted access. */
  issued: Array<{ user: string | undefined; scopes: string[]; access: AccessEntry[] }>;
  stop(): Promise<void>;
}

interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** The libtrust key ID of a public key (distribution 2.x `kid`): base32 of sha256(SPKI), 48 chars in 12 groups. */
function libtrustKeyId(spkiDer: Buffer): string {
  const hash = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

/** Makes an RSA key and a self-signed certificate with openssl (also used for registry TLS). */
export function selfSignedCertificate(
  keyFile: string,
  certFile: string,
  subject: string,
  san?: string,
): void {
  const args = [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ];
  args.push('-days', '2', '-subj', subject, ...(san ? ['-addext', `subjectAltName=${san}`] : []));
  execFileSync('openssl', args, { stdio: 'ignore' });
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(name);
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const service = options.service ?? 'test-registry';
  const issuer = options.issuer ?? 'test-token-issuer';
  const keyFile = path.join(options.dir, 'token-key.pem');
  const certFile = path.join(options.dir, 'token-cert.pem');
  selfSignedCertificate(keyFile, certFile, '/CN=test-token-issuer');
  const key = createPrivateKey(readFileSync(keyFile));
  const certPem = readFileSync(certFile);
  const cert = new X509Certificate(certPem);
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  const header = {
    typ: 'JWT',
    alg: 'RS256',
    kid: libtrustKeyId(spki),
    x5c: [cert.raw.toString('base64')],
  };
  const issued: TokenServer['issued'] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    let user: string | undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const name = decoded.slice(0, colon);
      if (options.users[name] === undefined || options.users[name] !== decoded.slice(colon + 1)) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            errors: [{ code: 'UNAUTHORIZED', message: 'wrong username or password' }],
          }),
        );
        return;
      }
      user = name;
    }
    const scopes = url.searchParams.getAll('scope');
    const access: AccessEntry[] = [];
    for (const scope of scopes) {
      const [type, ...rest] = scope.split(':');
      const actions = (rest.pop() ?? '').split(',');
      const name = rest.join(':');
      if (type !== 'repository') continue;
      const allowed = new Set(
        Object.entries(options.grants[user ?? ''] ?? {})
          .filter(([pattern]) => globMatch(pattern, name))
          .flatMap(([, acts]) => acts),
      );
      const granted = actions.filter((a) => allowed.has(a));
      if (granted.length) access.push({ type, name, actions: granted });
    }
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = options.expiresIn ?? 300;
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: url.searchParams.get('service') ?? service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: `${now}-${issued.length}`,
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), key))}`;
    issued.push({ user, scopes, access });
    res.writeHead(200, { 'content-type': 'application/json' });
    const field = options.useAccessTokenField ? 'access_token' : 'token';
    res.end(
      JSON.stringify({
        [field]: token,
        expires_in: expiresIn,
        issued_at: new Date(now * 1000).toISOString(),
      }),
    );
  });
  const { port, close } = await listenOnLoopback(server);
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    issued,
    stop: close,
  };
}
