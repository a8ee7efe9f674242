// A registry (or token server) that accepts the connection and then never answers, or answers
// without end, must fail named and promptly — not hang the build. The timeouts are lib/http's
// per-request limits, set here through the transport's `limits` to keep the test short.
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryTimeoutError } from '../../../lib/registry/registry-errors.js';
import { type RegistryCall, RegistryTransport } from '../../../lib/registry/transport.js';
import { type HostileServer, startHostileServer } from '../../support/hostile-server.js';

let server: HostileServer | undefined;
let transport: RegistryTransport | undefined;
afterEach(async () => {
  await transport?.close();
  await server?.stop();
  transport = undefined;
  server = undefined;
});

const call = (registry: string): RegistryCall => ({
  action: 'checking manifest',
  subject: `${registry}/ns/img:v1`,
  registry,
  method: 'HEAD',
  url: '/v2/ns/img/manifests/v1',
  scopes: ['repository:ns/img:pull'],
  expect: [200],
  idempotent: true,
});

describe('a registry that never answers', () => {
  it('fails with RegistryTimeoutError naming the headers timeout', async () => {
    // Reads the request and sends nothing back, ever.
    server = await startHostileServer(() => new Promise<void>(() => undefined));
    transport = new RegistryTransport({
      insecure: true,
      retry: { retries: 0 },
      limits: { timeouts: { headersMs: 300 } },
    });
    const err = await transport.send(call(server.host)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryTimeoutError);
    expect((err as Error).name).toBe('RegistryTimeoutError');
    expect((err as Error).message).toMatch(
      /pinging 127\.0\.0\.1:\d+: the registry accepted the connection but sent no response headers within the headers timeout \(300 ms; raise it with --headers-timeout or the build request.s timeouts\.headersMs\)/,
    );
    expect((err as RegistryTimeoutError).temporary).toBe(true);
    expect(server.requests.some((r) => r.url === '/v2/')).toBe(true);
  });

  it('is retried as temporary and still ends named', async () => {
    server = await startHostileServer(() => new Promise<void>(() => undefined));
    transport = new RegistryTransport({
      insecure: true,
      retry: { retries: 1, baseDelayMs: 10, jitter: 0 },
      limits: { timeouts: { headersMs: 200 } },
    });
    const err = await transport.send(call(server.host)).catch((e: unknown) => e);
    expect((err as Error).name).toBe('RegistryTimeoutError');
    expect(server.requests.filter((r) => r.url === '/v2/').length).toBeGreaterThanOrEqual(2);
  });
});

describe('a token server that never stops answering', () => {
  it('stops reading at the 1 MiB cap with a named error', async () => {
    let sent = 0;
    server = await startHostileServer((req, res) => {
      if (req.url?.startsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"token":"');
        const chunk = 'x'.repeat(64 * 1024);
        // Endless: keep writing while the client reads; stop when it hangs up.
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) sent += chunk.length;
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return;
      }
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="s"`,
      });
      res.end();
    });
    transport = new RegistryTransport({ insecure: true, retry: { retries: 0 } });
    const err = await transport.send(call(server.host)).catch((e: unknown) => e);
    expect((err as Error).name).toBe('RegistryProtocolError');
    expect((err as Error).message).toMatch(
      /getting token for 127\.0\.0\.1:\d+: the answer is larger than 1048576 bytes/,
    );
    // Not read whole (there is no whole): the server stopped within a few MiB of the cap.
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });
});
