// Shared plumbing for the fake midjourney-proxy and Midjourney-node-api servers: a real HTTP server on
// 127.0.0.1 with a request log, the failure injections every relay can suffer (5xx streaks, bodies that
// are not JSON), images it serves itself, and fire-and-forget callbacks the way those relays send them. Built
// on relay-fake-kit's plumbing; `MjRelayFake` is what both fakes show their tests.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { RelayFake, closeServer, jsonOrText, listenLocal, pushJson, readBody, sendJson as sendJsonAs, solidPng } from './relay-fake-kit.ts';

export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface SentCallback {
  url: string;
  body: unknown;
  status?: number;
}

export type Handler = (req: SeenRequest, res: ServerResponse) => Promise<void> | void;

/** Failure injections shared by both fakes; each counter is consumed by the next matching requests. */
export interface CommonInjections {
  /** The next N requests answer HTTP 503. */
  serverErrors: number;
  /** The next N requests answer HTTP 200 with a body that is not JSON. */
  malformed: number;
}

export class FakeRelayServer {
  readonly requests: SeenRequest[] = [];
  readonly callbacks: SentCallback[] = [];
  readonly inject: CommonInjections = { serverErrors: 0, malformed: 0 };
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<Promise<unknown>>();
  url = '';

  private constructor(private readonly server: Server) {}

  static async start(handler: Handler): Promise<FakeRelayServer> {
    const server = createServer();
    const fake = new FakeRelayServer(server);
    server.on('request', (req, res) => {
      void fake.handle(req, res, handler).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      });
    });
    fake.url = await listenLocal(server);
    return fake;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, handler: Handler) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const raw = await readBody(req);
    let body: unknown;
    if (raw) {
      const type = String(req.headers['content-type'] ?? '');
      body = type.includes('urlencoded') ? Object.fromEntries(new URLSearchParams(raw)) : jsonOrText(raw);
    }
    const seen: SeenRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body };
    const isImage = /\.(png|webp|jpe?g)$/.test(url.pathname);
    if (!isImage) {
      this.requests.push(seen);
      if (this.inject.serverErrors > 0) {
        this.inject.serverErrors--;
        return sendJson(res, 503, { error: 'injected: service unavailable' });
      }
      if (this.inject.malformed > 0) {
        this.inject.malformed--;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"code": 1, "result": <html>oops');
        return;
      }
    }
    await handler(seen, res);
  }

  /** The most recent request to `path`. */
  lastRequest(path: string): SeenRequest | undefined {
    for (let i = this.requests.length - 1; i >= 0; i--) if (this.requests[i]!.path === path) return this.requests[i];
    return undefined;
  }

  /** Runs `fn` after `ms`, unless the server is closed first. */
  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /** POSTs `body` as JSON once, no retry, like both relays do; the outcome is recorded. */
  push(url: string, body: unknown): void {
    const record: SentCallback = { url, body: structuredClone(body) };
    this.callbacks.push(record);
    const sent = pushJson(url, body, {}, 5_000).then((status) => {
      record.status = status;
    });
    this.pending.add(sent);
    void sent.finally(() => this.pending.delete(sent));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.pending]);
    await closeServer(this.server);
  }
}

/** What both fakes show their tests besides `RelayFake`'s: failure injections, pushes sent, the last request. */
export abstract class MjRelayFake extends RelayFake<FakeRelayServer> {
  abstract override readonly server: FakeRelayServer;

  /** Starts a server whose requests go to the `route` of the fake `make` builds on it. */
  protected static async serve<F extends MjRelayFake>(make: (server: FakeRelayServer) => F): Promise<F> {
    let fake: F | undefined;
    const server = await FakeRelayServer.start((req, res) => fake!.route(req, res));
    fake = make(server);
    return fake;
  }

  protected abstract route(req: SeenRequest, res: ServerResponse): Promise<void> | void;

  get inject(): CommonInjections {
    return this.server.inject;
  }

  get callbacks(): SentCallback[] {
    return this.server.callbacks;
  }

  /** The most recent request to `path`. */
  lastRequest(path: string): SeenRequest | undefined {
    return this.server.lastRequest(path);
  }
}

/** JSON the way both relays send it (with the charset). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonAs(res, status, body, 'application/json; charset=utf-8');
}

/** A small PNG whose colour depends on `key`, so two jobs never deliver the same bytes. */
export async function sendImage(res: ServerResponse, key: string, width = 256, height = 256): Promise<void> {
  const [r, g, b] = createHash('sha256').update(key).digest();
  const png = await solidPng({ r: r!, g: g!, b: b! }, width, height);
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length }).end(png);
}

/** Midjourney-ish message hash for button customIds. */
export const fakeHash = (seed: string) => {
  const h = createHash('md5').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
