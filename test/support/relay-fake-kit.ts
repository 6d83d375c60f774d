// Plumbing shared by the fake relays (fake-imagineapi, fake-piapi): a JSON HTTP server on 127.0.0.1 that
// records every request, serves real PNG images, and can be told to misbehave for the next N requests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** A canned bad answer for the next matching request(s). */
export interface Injected {
  status: number;
  /** A JSON body, or a raw string (for malformed JSON). */
  body: unknown;
  raw?: boolean;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => Promise<void> | void;

export function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A small distinct PNG per name: the colour comes from the name, so two jobs never look alike. */
export async function pngFor(name: string, width = 64, height = 64): Promise<Buffer> {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const background = { r: h & 255, g: (h >> 8) & 255, b: (h >> 16) & 255 };
  return sharp({ create: { width, height, channels: 3, background } }).png().toBuffer();
}

export class RelayFakeServer {
  readonly requests: RecordedRequest[] = [];
  private readonly injected: Array<{ match: (r: RecordedRequest) => boolean; answer: Injected; left: number }> = [];
  private server!: Server;
  url = '';

  constructor(private readonly handler: Handler) {}

  async listen(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next `times` requests matching `match` get `answer` instead of the real reply. */
  inject(match: (r: RecordedRequest) => boolean, answer: Injected, times = 1): void {
    this.injected.push({ match, answer, left: times });
  }

  clearInjections(): void {
    this.injected.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // kept as text: the handler decides whether that is an error
    }
    const url = new URL(req.url ?? '/', this.url);
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers, body };
    if (!url.pathname.startsWith('/assets/')) this.requests.push(recorded);
    const hit = this.injected.find((i) => i.left > 0 && i.match(recorded));
    if (hit) {
      hit.left--;
      const { status, body: answer, raw } = hit.answer;
      res.writeHead(status, { 'content-type': 'application/json' }).end(raw ? String(answer) : JSON.stringify(answer));
      return;
    }
    try {
      await this.handler(recorded, res);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
    }
  }
}

/** POSTs a JSON body to a callback URL the way a relay does; the answer's status is returned (0 if unreachable). */
export async function pushJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}
