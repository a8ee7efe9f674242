// A small malicious HTTP server for the hostile-input suite: every request goes to the
// test's `handle` function, which may answer anything (echo our Authorization header back,
// send a body that never ends, never send headers, lie about sizes). Requests are recorded
// with their headers so a case can check what we sent. Listens on 127.0.0.1 only.
// Not a test file itself.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  seen: SeenRequest,
) => void | Promise<void>;

export interface HostileServer {
  /** `127.0.0.1:PORT`, for registry references. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  requests: SeenRequest[];
  handle: Handler;
  stop(): Promise<void>;
}

export async function startHostileServer(handle: Handler): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  const state: HostileServer = {
    host: '',
    url: '',
    requests: [],
    handle,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const seen = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    state.requests.push(seen);
    Promise.resolve(state.handle(req, res, seen)).catch(() => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.host = `127.0.0.1:${port}`;
  state.url = `http://${state.host}`;
  return state;
}

/** Sends a JSON body with a status. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/** A registry error body (distribution's `{"errors":[…]}`) with `message`. */
export function registryError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers = {},
): void {
  sendJson(res, status, { errors: [{ code, message, detail: message }] }, headers);
}
