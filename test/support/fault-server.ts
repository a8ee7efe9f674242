// A real HTTP server on 127.0.0.1 whose answers a test scripts one by one: a status (with
// Retry-After), a reset connection, a late answer, a long body. It counts requests and the
// most that were in flight at once, so lib/http's retry loop, classification and limiter
// are tested against sockets, not mocks.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { listenOnLoopback } from './loopback-server.js';

export interface Fault {
  status?: number;
  retryAfter?: string;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
  /** Wait this long before answering (to hold requests in flight, or to trip a timeout). */
  delayMs?: number;
  /** Answer with this many bytes of body. */
  bodyBytes?: number;
}

export interface FaultServer {
  url: string;
  host: string;
  /** Answers for the next requests, first come first used; afterwards 200 "ok". */
  faults: Fault[];
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
  inFlight: { now: number; max: number };
  close(): Promise<void>;
}

export async function startFaultServer(): Promise<FaultServer> {
  const faults: Fault[] = [];
  const requests: FaultServer['requests'] = [];
  const inFlight = { now: 0, max: 0 };
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    inFlight.now++;
    inFlight.max = Math.max(inFlight.max, inFlight.now);
    const fault = faults.shift() ?? {};
    req.resume();
    const answer = () => {
      inFlight.now--;
      if (fault.reset) return void req.socket.destroy();
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status ?? 200, headers);
      res.end(fault.bodyBytes ? Buffer.alloc(fault.bodyBytes, 0x61) : 'ok');
    };
    if (fault.delayMs) {
      const timer = setTimeout(answer, fault.delayMs);
      res.on('close', () => clearTimeout(timer));
    } else req.on('end', answer);
  });
  const { port, close } = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    faults,
    requests,
    inFlight,
    close: close,
  };
}
