// Plumbing shared by the fake relays: a JSON HTTP server on 127.0.0.1 that records every request, serves real
// PNG images, and can be told to misbehave for the next N requests (fake-imagineapi, fake-piapi, fake-acedata,
// fake-ttapi); the request reading, listening, closing and callback pushing that fake-mj-common's server shares;
// `RelayFake`, the face every fake shows its tests (url, requests, close); and the controls the fakes' tests
// share: `failNextJob`/`slowNextJob` (`JobRelayFake`: fake-acedata, fake-ttapi) and `failPrompts`/`pacePrompts`/
// `release` (`PromptRelayFake`: fake-imagineapi, fake-legnext, fake-piapi).
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

/** `body` as JSON (undefined: an empty body). */
export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  res.writeHead(status, { 'content-type': contentType }).end(body === undefined ? '' : JSON.stringify(body));
}

/** A PNG of one colour. */
export function solidPng(background: { r: number; g: number; b: number }, width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background } }).png().toBuffer();
}

/** A small distinct PNG per name: the colour comes from the name, so two jobs never look alike. */
export async function pngFor(name: string, width = 64, height = 64): Promise<Buffer> {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return solidPng({ r: h & 255, g: (h >> 8) & 255, b: (h >> 16) & 255 }, width, height);
}

/** A request's body as text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Parsed JSON, or the text itself when it is not JSON (the handler decides whether that is an error). */
export function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Listens on a free port of 127.0.0.1; resolves the server's origin. */
export async function listenLocal(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Drops open connections (streams, keep-alive) and closes the server. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Serves the PNG of `pngFor(name, width, height)`. */
export async function sendPng(res: ServerResponse, name: string, width: number, height: number): Promise<void> {
  const data = await pngFor(name, width, height);
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': data.length }).end(data);
}

export class RelayFakeServer {
  readonly requests: RecordedRequest[] = [];
  private readonly injected: Array<{ match: (r: RecordedRequest) => boolean; answer: Injected; left: number }> = [];
  private server!: Server;
  url = '';

  constructor(private readonly handler: Handler) {}

  async listen(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.url = await listenLocal(this.server);
  }

  /** The next `times` requests matching `match` get `answer` instead of the real reply. */
  inject(match: (r: RecordedRequest) => boolean, answer: Injected, times = 1): void {
    this.injected.push({ match, answer, left: times });
  }

  clearInjections(): void {
    this.injected.length = 0;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const text = await readBody(req);
    const body = text ? jsonOrText(text) : undefined;
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

/**
 * POSTs a JSON body to a callback URL the way a relay does; the answer's status is returned (0 if unreachable,
 * or when `timeoutMs` passes first).
 */
export async function pushJson(url: string, body: unknown, headers: Record<string, string> = {}, timeoutMs?: number): Promise<number> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      ...(timeoutMs !== undefined && { signal: AbortSignal.timeout(timeoutMs) }),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** What every fake relay shows its tests: the server's origin and request log, and close(). */
export abstract class RelayFake<S extends { url: string; readonly requests: unknown[]; close(): Promise<void> }> {
  abstract readonly server: S;

  get url(): string {
    return this.server.url;
  }

  get requests(): S['requests'] {
    return this.server.requests;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

export interface FakeRelayOptions {
  /** The key the fake accepts (each fake has its own default). */
  apiKey?: string;
  /** Time per step of a job (150 ms unless set); each fake says what its steps are. */
  stepMs?: number;
}

/** A fake relay on a `RelayFakeServer` whose requests go to `route`. */
export abstract class KitRelayFake extends RelayFake<RelayFakeServer> {
  readonly server = new RelayFakeServer((req, res) => this.route(req, res));
  readonly apiKey: string;
  /** Time per step of a job (may be changed between jobs). */
  stepMs: number;

  constructor(opts: FakeRelayOptions, defaultApiKey: string) {
    super();
    this.apiKey = opts.apiKey ?? defaultApiKey;
    this.stepMs = opts.stepMs ?? 150;
  }

  private readonly timers: NodeJS.Timeout[] = [];

  protected abstract route(req: RecordedRequest, res: ServerResponse): Promise<void> | void;

  /** Drops every injected answer not yet given. */
  clearInjections(): void {
    this.server.clearInjections();
  }

  /**
   * Calls `tick` every third of a step (20 ms at least, as `stepMs` is at the start) until close(): jobs move,
   * and pushes go out, whether or not anyone polls.
   */
  protected everyTick(tick: () => Promise<void>): NodeJS.Timeout {
    const timer = setInterval(() => void tick(), Math.max(20, Math.floor(this.stepMs / 3)));
    this.timers.push(timer);
    return timer;
  }

  override close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    return super.close();
  }

  /** Starts the server; resolves the fake itself. */
  protected async listening(): Promise<this> {
    await this.server.listen();
    return this;
  }
}

/** A fake whose jobs can be told, one creation at a time, to fail or to run longer. */
export abstract class JobRelayFake extends KitRelayFake {
  protected readonly failNext: string[] = [];
  protected readonly slowNext: number[] = [];

  /** The next job created ends failed, with this reason in the relay's own failure shape. */
  failNextJob(reason: string): void {
    this.failNext.push(reason);
  }

  /** The next job created runs this much longer (a window for progress edits that no timing can miss). */
  slowNextJob(extraMs: number): void {
    this.slowNext.push(extraMs);
  }
}

/** What `PromptRelayFake` keeps of each job besides the relay's own record. */
export interface PromptJob {
  /** The prompt the job draws (its own, or its grid's): what `failPrompts`, `pacePrompts` and `release` match. */
  prompt: string;
  /** When the job's clock started: its states follow the time since then, `stepMs` apiece. */
  createdAt: number;
  /** The reason of the `failPrompts` rule that matched the prompt: the job ends failed with it. */
  failWith?: string;
  /** A `pacePrompts` rule matched: the job does not finish until `release()`. */
  paced?: boolean;
}

/**
 * A fake whose jobs follow the clock (pending at creation, done after three steps) and which its tests steer by
 * prompt: some jobs fail, some are paced until released. Each fake keeps its jobs (`J`: its own record plus
 * `PromptJob`) in `jobs` and says, in its `advance`, what a failing or paced job looks like on its wire.
 */
export abstract class PromptRelayFake<J extends PromptJob> extends KitRelayFake {
  protected readonly jobs = new Map<string, J>();
  private readonly failures: Array<{ match: RegExp; reason: string }> = [];
  private readonly paces: RegExp[] = [];

  /** Jobs whose prompt matches end failed with this reason, in the relay's own failure shape. */
  failPrompts(match: RegExp, reason: string): void {
    this.failures.push({ match, reason });
  }

  /** Jobs whose prompt matches keep working (each fake says in what state) until `release()`. */
  pacePrompts(match: RegExp): void {
    this.paces.push(match);
  }

  /**
   * Lets paced jobs finish now. With `match`, only the jobs whose prompt matches, and later jobs are still paced
   * as told.
   */
  release(match?: RegExp): void {
    if (!match) this.paces.length = 0;
    for (const job of this.jobsMatching(match)) {
      if (job.paced) Object.assign(job, { paced: false, createdAt: Date.now() - 3 * this.stepMs });
    }
  }

  /** The jobs whose prompt matches (all of them without `match`). */
  protected jobsMatching(match?: RegExp): J[] {
    return [...this.jobs.values()].filter((job) => !match || match.test(job.prompt));
  }

  /** What the rules say of a job created now with this prompt. */
  protected rulesFor(prompt: string): Pick<PromptJob, 'createdAt' | 'failWith' | 'paced'> {
    return {
      createdAt: Date.now(),
      failWith: this.failures.find((f) => f.match.test(prompt))?.reason,
      paced: this.paces.some((p) => p.test(prompt)),
    };
  }

  /** A paced job's progress after its first step: 10 %, a point more every 100 ms, at most 95 %. */
  protected pacedProgress(job: J): number {
    return Math.min(95, 10 + Math.floor((Date.now() - job.createdAt - this.stepMs) / 100));
  }
}
