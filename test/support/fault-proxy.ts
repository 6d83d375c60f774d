// An HTTP proxy on 127.0.0.1 in front of a fake relay, for weather the relay itself does not make: a seeded
// fraction of requests answered 5xx without reaching the relay, and answers held back (the relay did the work,
// the bot hears about it late). It logs when each request arrived and when it was answered, so tests can order
// events against "the relay had not answered yet" instead of against the clock.
//
//   const front = await FaultProxy.start(relay.url, { errorRate: 0.1, seed: 42 });   // bot: baseUrl = front.url
//   const slow = await FaultProxy.start(relay.url, { delayMs: 25_000 });
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenLocal, readBody } from './relay-fake-kit.ts';
import { seededRandom, type Random } from './seeded-random.ts';

export interface FaultProxyOptions {
  /** Fraction (0..1) of requests answered `errorStatus` before they reach the relay. */
  errorRate?: number;
  /** Default 503. */
  errorStatus?: number;
  /** Seed of the error draw (default 1). */
  seed?: number;
  /** Each answer is held this long after the relay gave it (the relay has already acted on the request). */
  delayMs?: number;
  /** Only requests this returns true for suffer the faults (default: all). */
  match?: (req: ProxiedRequest) => boolean;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  path: string;
  body: unknown;
  receivedAt: number;
  /** When the bot got the answer (undefined while held, or when the bot gave up first). */
  answeredAt?: number;
  status?: number;
  /** Answered by the proxy itself (an injected error). */
  injected?: boolean;
}

const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

export class FaultProxy {
  readonly log: ProxiedRequest[] = [];
  errorRate: number;
  errorStatus: number;
  delayMs: number;
  url = '';
  private readonly random: Random;
  private readonly match: (req: ProxiedRequest) => boolean;
  private readonly timers = new Set<NodeJS.Timeout>();
  private server!: Server;

  private constructor(
    readonly target: string,
    opts: FaultProxyOptions,
  ) {
    this.errorRate = opts.errorRate ?? 0;
    this.errorStatus = opts.errorStatus ?? 503;
    this.delayMs = opts.delayMs ?? 0;
    this.random = seededRandom(opts.seed ?? 1);
    this.match = opts.match ?? (() => true);
  }

  static async start(target: string, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
    const proxy = new FaultProxy(target, opts);
    proxy.server = createServer((req, res) => void proxy.handle(req, res));
    proxy.url = await listenLocal(proxy.server);
    return proxy;
  }

  /** Requests that reached the proxy so far. */
  get received(): number {
    return this.log.length;
  }

  /** Requests the bot has had an answer to. */
  get answered(): ProxiedRequest[] {
    return this.log.filter((r) => r.answeredAt !== undefined);
  }

  /** Requests still waiting for their answer. */
  get pending(): ProxiedRequest[] {
    return this.log.filter((r) => r.answeredAt === undefined);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await closeServer(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // not JSON: kept as text
    }
    const entry: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', body, receivedAt: Date.now() };
    this.log.push(entry);
    const faulty = this.match(entry);
    const answer = (status: number, headers: Record<string, string>, payload: Buffer | string) => {
      if (res.destroyed) return;
      res.writeHead(status, headers).end(payload, () => {
        entry.answeredAt = Date.now();
        entry.status = status;
      });
    };
    if (faulty && this.errorRate > 0 && this.random() < this.errorRate) {
      entry.injected = true;
      return answer(this.errorStatus, { 'content-type': 'application/json' }, JSON.stringify({ error: 'injected by the fault proxy' }));
    }
    let status = 502;
    let headers: Record<string, string> = { 'content-type': 'application/json' };
    let payload: Buffer | string = JSON.stringify({ error: 'relay unreachable' });
    try {
      const forward: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) forward[k] = Array.isArray(v) ? v.join(', ') : v;
      const upstream = await fetch(`${this.target}${entry.path}`, { method: entry.method, headers: forward, body: entry.method === 'GET' || entry.method === 'HEAD' ? undefined : raw });
      status = upstream.status;
      payload = Buffer.from(await upstream.arrayBuffer());
      headers = { 'content-type': upstream.headers.get('content-type') ?? 'application/json' };
    } catch {
      // the relay is down: 502 as a gateway would answer
    }
    const delay = faulty ? this.delayMs : 0;
    if (delay <= 0) return answer(status, headers, payload);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      answer(status, headers, payload);
    }, delay);
    this.timers.add(timer);
  }
}
