// Shared plumbing for the fake midjourney-proxy and Midjourney-node-api servers: a real HTTP server on
// 127.0.0.1 with a request log, the failure injections every relay can suffer (5xx streaks, bodies that
// are not JSON), images it serves itself, and fire-and-forget callbacks the way those relays send them.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

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
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, handler: Handler) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    if (raw) {
      const type = String(req.headers['content-type'] ?? '');
      body = type.includes('urlencoded') ? Object.fromEntries(new URLSearchParams(raw)) : safeJson(raw);
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
    const sent = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5_000) })
      .then(async (r) => {
        record.status = r.status;
        await r.arrayBuffer();
      })
      .catch(() => {
        record.status = 0;
      });
    this.pending.add(sent);
    void sent.finally(() => this.pending.delete(sent));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.pending]);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(body === undefined ? '' : JSON.stringify(body));
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** A small PNG whose colour depends on `key`, so two jobs never deliver the same bytes. */
export async function sendImage(res: ServerResponse, key: string, width = 256, height = 256): Promise<void> {
  const [r, g, b] = createHash('sha256').update(key).digest();
  const png = await sharp({ create: { width, height, channels: 3, background: { r: r!, g: g!, b: b! } } }).png().toBuffer();
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length }).end(png);
}

/** Midjourney-ish message hash for button customIds. */
export const fakeHash = (seed: string) => {
  const h = createHash('md5').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
