// A fake of Amazon ECR's JSON API (awsJson1_1), only GetAuthorizationToken, for tests: no ECR
// emulator is installable here, so the real @aws-sdk/client-ecr is pointed at this server
// through its `endpoint` option. It answers base64 "AWS:<password>" with a proxyEndpoint for
// the registry it fronts (normally the htpasswd variant of registry-server.ts).
//
//   const ecr = await startEcrFake({ password: reg.password, proxyEndpoint: reg.url });
//   new EcrKeychain({ endpoint: ecr.endpoint, matches: (r) => r === reg.host })
//   ecr.calls            number of GetAuthorizationToken calls
//   ecr.passwords        queue of passwords to answer first (e.g. a stale one), then `password`
//   await ecr.stop()
import http from 'node:http';
import { listenOnLoopback } from './loopback-server.js';

export interface EcrFakeOptions {
  password: string;
  proxyEndpoint: string;
}

export interface EcrFake {
  endpoint: string;
  calls: number;
  /** Passwords answered before `password`, one per call (to simulate an expired token). */
  passwords: string[];
  stop(): Promise<void>;
}

export async function startEcrFake(options: EcrFakeOptions): Promise<EcrFake> {
  const state = { calls: 0, passwords: [] as string[] };
  const server = http.createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    req.resume();
    req.on('end', () => {
      if (!target.endsWith('.GetAuthorizationToken')) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(
          JSON.stringify({ __type: 'InvalidParameterException', message: `unsupported ${target}` }),
        );
        return;
      }
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) {
        res.writeHead(403, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(
          JSON.stringify({ __type: 'UnrecognizedClientException', message: 'unsigned request' }),
        );
        return;
      }
      state.calls++;
      const password = state.passwords.shift() ?? options.password;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
              expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
              proxyEndpoint: options.proxyEndpoint,
            },
          ],
        }),
      );
    });
  });
  const { port, close } = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get calls() {
      return state.calls;
    },
    set calls(n: number) {
      state.calls = n;
    },
    get passwords() {
      return state.passwords;
    },
    set passwords(p: string[]) {
      state.passwords = p;
    },
    stop: close,
  };
}
