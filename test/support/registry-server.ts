// A real Docker registry for tests: Debian's `docker-registry` (distribution 2.8) started on
// 127.0.0.1 with a free port, filesystem storage in a temp dir and deletes enabled.
// Variants, combinable: `auth: 'htpasswd'` (bcrypt entries made by `htpasswd -Bbn`),
// `auth: 'token'` (our token-server.ts as the realm, RS256 JWTs), `tls: true` (openssl
// self-signed certificate with IP SAN 127.0.0.1; `caFile`/`caPem` let a client trust it).
//
//   const reg = await startRegistry({ auth: 'htpasswd', tls: true });
//   reg.host        '127.0.0.1:PORT' (use as the registry part of references)
//   reg.url         'http://127.0.0.1:PORT' or 'https://…'
//   reg.username / reg.password   the first user (htpasswd and token variants)
//   reg.caFile / reg.caPem         with tls
//   reg.tokens                     the token server (token variant): issued log, realm
//   reg.authFile(creds?)           writes a docker config.json for this registry, returns its path
//   await reg.stop()               kills the registry, stops the token server, removes the dir
//
// skopeo against it: `skopeo inspect --raw --tls-verify=false [--creds u:p] docker://HOST/repo:tag`.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { selfSignedCertificate, startTokenServer, type TokenServer } from './token-server.js';

export interface RegistryServerOptions {
  auth?: 'none' | 'htpasswd' | 'token';
  tls?: boolean;
  /** username → password (htpasswd and token variants). Default { tester: 'secret-pw-1' }. */
  users?: Record<string, string>;
  /** Token variant: username → repository glob → actions. Default: every user may pull/push `*`. */
  grants?: Record<string, Record<string, string[]>>;
}

export interface RegistryServer {
  host: string;
  url: string;
  dataDir: string;
  username?: string;
  password?: string;
  caFile?: string;
  caPem?: string;
  tokens?: TokenServer;
  authFile(creds?: { username: string; password: string }): string;
  stop(): Promise<void>;
}

export const DEFAULT_USERS = { tester: 'secret-pw-1' };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function makeCertificate(dir: string): { certFile: string; keyFile: string } {
  const certFile = path.join(dir, 'tls-cert.pem');
  const keyFile = path.join(dir, 'tls-key.pem');
  selfSignedCertificate(keyFile, certFile, '/CN=127.0.0.1', 'IP:127.0.0.1,DNS:localhost');
  return { certFile, keyFile };
}

function writeHtpasswd(dir: string, users: Record<string, string>): string {
  const file = path.join(dir, 'htpasswd');
  const lines = Object.entries(users).map(([u, p]) =>
    execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim(),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function waitUntilUp(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  try {
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null)
        throw new Error(`docker-registry exited (${child.exitCode}): ${stderr()}`);
      try {
        const res = await request(`${url}/v2/`, { dispatcher: agent });
        await res.body.dump();
        if (res.statusCode === 200 || res.statusCode === 401) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`docker-registry did not answer on ${url}: ${stderr()}`);
  } finally {
    await agent.close();
  }
}

export async function startRegistry(options: RegistryServerOptions = {}): Promise<RegistryServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'registry-'));
  const dataDir = path.join(dir, 'data');
  const users = options.users ?? DEFAULT_USERS;
  const [username, password] = Object.entries(users)[0] ?? [];
  const auth = options.auth ?? 'none';
  const lines: string[] = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(dataDir)}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    '  secret: test-secret-not-a-credential',
  ];
  let tls: { certFile: string; keyFile: string } | undefined;
  if (options.tls) {
    tls = makeCertificate(dir);
    lines.push(
      '  tls:',
      `    certificate: ${JSON.stringify(tls.certFile)}`,
      `    key: ${JSON.stringify(tls.keyFile)}`,
    );
  }
  let tokens: TokenServer | undefined;
  if (auth === 'htpasswd') {
    lines.push(
      'auth:',
      '  htpasswd:',
      '    realm: test-registry',
      `    path: ${JSON.stringify(writeHtpasswd(dir, users))}`,
    );
  } else if (auth === 'token') {
    const grants =
      options.grants ??
      Object.fromEntries(Object.keys(users).map((u) => [u, { '*': ['pull', 'push'] }]));
    tokens = await startTokenServer({ dir, users, grants });
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${JSON.stringify(tokens.realm)}`,
      `    service: ${JSON.stringify(tokens.service)}`,
      `    issuer: ${JSON.stringify(tokens.issuer)}`,
      `    rootcertbundle: ${JSON.stringify(tokens.certFile)}`,
    );
  }
  const configFile = path.join(dir, 'config.yml');
  writeFileSync(configFile, `${lines.join('\n')}\n`);

  // The free port may be taken between probe and bind: try a few times.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const url = `${tls ? 'https' : 'http'}://${host}`;
    const child = spawn('docker-registry', ['serve', configFile], {
      env: { ...process.env, REGISTRY_HTTP_ADDR: host, OTEL_TRACES_EXPORTER: 'none' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let errText = '';
    child.stderr?.on('data', (d: Buffer) => {
      errText = (errText + d.toString()).slice(-4000);
    });
    try {
      await waitUntilUp(url, child, () => errText);
    } catch (err) {
      child.kill('SIGKILL');
      if (attempt < 3 && /address already in use/.test(errText)) continue;
      await tokens?.stop();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const caPem = tls ? readFileSync(tls.certFile, 'utf8') : undefined;
    return {
      host,
      url,
      dataDir,
      ...(username !== undefined && auth !== 'none' ? { username, password } : {}),
      ...(tls ? { caFile: tls.certFile, caPem } : {}),
      ...(tokens ? { tokens } : {}),
      authFile(creds) {
        const u = creds?.username ?? username ?? '';
        const p = creds?.password ?? password ?? '';
        const file = path.join(dir, `auth-${Math.random().toString(36).slice(2)}.json`);
        writeFileSync(
          file,
          JSON.stringify({
            auths: { [host]: { auth: Buffer.from(`${u}:${p}`).toString('base64') } },
          }),
        );
        return file;
      },
      async stop() {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
        }
        await tokens?.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
