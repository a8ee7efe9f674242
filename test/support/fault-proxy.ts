// An HTTP proxy that injects faults in front of a real server (our App Registry server, the
// docker-registry): a seeded share of requests is answered 503 (with Retry-After: 0) or has
// its connection reset before anything is forwarded, the rest are forwarded unchanged (the
// Host header kept, so a registry's upload Locations point back at the proxy). Seeded, so a
// failing seed can be replayed. With rate 0 it only records: every forwarded request's
// method, path, length and the status it got (e.g. to count a chunked upload's PATCHes).
// Not a test file itself.
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ForwardedRequest {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  /** The request's content-length header, when it had one. */
  contentLength?: number;
  /** The upstream's status, once it answered. */
  status?: number;
}

export interface FaultProxy {
  host: string;
  url: string;
  faults: number;
  forwarded: number;
  /** Every forwarded request, in arrival order. */
  requests: ForwardedRequest[];
  stop(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, enough to pick faults reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFaultProxy(
  target: string,
  options: { rate: number; seed: number },
): Promise<FaultProxy> {
  const to = new URL(target);
  const random = prng(options.seed);
  const sockets = new Set<Socket>();
  const state: FaultProxy = {
    host: '',
    url: '',
    faults: 0,
    forwarded: 0,
    requests: [],
    stop: async () => {},
  };
  const server = createServer((req, res) => {
    const roll = random();
    if (roll < options.rate) {
      state.faults++;
      if (roll < options.rate / 2) {
        req.resume();
        res.writeHead(503, { 'retry-after': '0', 'content-type': 'text/plain' });
        res.end('injected fault');
      } else req.socket.destroy();
      return;
    }
    state.forwarded++;
    const length = req.headers['content-length'];
    const record: ForwardedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      ...(length !== undefined ? { contentLength: Number(length) } : {}),
    };
    state.requests.push(record);
    const upstream = httpRequest(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        record.status = up.statusCode;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.host = `127.0.0.1:${port}`;
  state.url = `http://${state.host}${to.pathname === '/' ? '' : to.pathname}`;
  state.stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}
