// The bench's relay: TTApi's wire format (what src/upstream/ttapi.ts speaks and test/support/fake-ttapi.ts
// fakes), with what a benchmark needs on top: jobs of any length with a progress step every `stepMs`, a result
// image of any size served from memory, and the moment each job completed (its hook is pushed then).
//   POST /midjourney/v1/imagine {prompt, hookUrl?} → {status:'SUCCESS', data:{jobId}}
//   GET  /midjourney/v1/fetch?jobId=             → {status: PENDING_QUEUE|ON_QUEUE|SUCCESS, jobId, data:{progress, cdnImage, components}}
//   hookUrl receives the fetch-shaped body once, when the job completes.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

export interface BenchRelayOptions {
  /** Time per step; a job is queued for one step, runs through `progress`, and completes a step after the last. */
  stepMs: number;
  /** The progress reported at each running step (TTApi reports a percentage as a string). */
  progress: number[];
  /** Side of the square result image in pixels: random noise, so PNG cannot shrink it (3 bytes per pixel). */
  imageSide: number;
}

export interface BenchJob {
  jobId: string;
  prompt: string;
  createdAt: number;
  /** When the relay finished it: the hook is pushed at this moment. */
  completesAt: number;
  hookUrl?: string;
  /** When the hook POST started and when the bot answered it (the bot answers once the result is delivered). */
  hookSentAt?: number;
  hookAnsweredAt?: number;
  hookStatus?: number;
}

const API_KEY = 'bench-relay-key';
const GRID = ['upsample1', 'upsample2', 'upsample3', 'upsample4', 'reroll', 'variation1', 'variation2', 'variation3', 'variation4'];

/** A PNG of random noise `side` pixels square: as large as an uncompressed picture of that size. */
export async function noisePng(side: number): Promise<Buffer> {
  const raw = Buffer.alloc(side * side * 3);
  // A cheap generator is enough: the point is that deflate finds nothing to compress.
  let x = 0x9e3779b9;
  for (let i = 0; i < raw.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = x & 0xff;
  }
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
}

export class BenchRelay {
  readonly apiKey = API_KEY;
  readonly jobs = new Map<string, BenchJob>();
  /** Jobs in the order accepted. */
  readonly order: BenchJob[] = [];
  fetches = 0;
  maxInFlight = 0;
  private server!: Server;
  private image!: Buffer;
  url = '';

  private constructor(private opts: BenchRelayOptions) {}

  static async start(opts: BenchRelayOptions): Promise<BenchRelay> {
    const relay = new BenchRelay(opts);
    relay.image = await noisePng(opts.imageSide);
    relay.server = createServer((req, res) => void relay.handle(req, res).catch(() => res.writeHead(500).end()));
    // Many jobs poll and push at once: no artificial connection limits.
    relay.server.maxConnections = 100_000;
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    relay.url = `http://127.0.0.1:${(relay.server.address() as AddressInfo).port}`;
    return relay;
  }

  get imageBytes(): number {
    return this.image.length;
  }

  /** A URL serving the result image (what the bot downloads), for the floor measurement. */
  get imageUrl(): string {
    return `${this.url}/assets/floor.png`;
  }

  /** Jobs accepted and not yet completed, now. */
  inFlight(now = Date.now()): number {
    let n = 0;
    for (const job of this.order) if (job.completesAt > now) n++;
    return n;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method === 'GET' && url.pathname.startsWith('/assets/')) {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': this.image.length }).end(this.image);
      return;
    }
    if (req.headers['tt-api-key'] !== API_KEY) return json(res, 401, { status: 'FAILED', message: 'Invalid TT-API-KEY', data: null });
    if (req.method === 'POST' && url.pathname === '/midjourney/v1/imagine') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { prompt?: string; hookUrl?: string };
      if (!body.prompt) return json(res, 400, { status: 'FAILED', message: 'prompt is required', data: null });
      return json(res, 200, { status: 'SUCCESS', message: 'success', data: { jobId: this.create(body.prompt, body.hookUrl).jobId } });
    }
    if (req.method === 'GET' && url.pathname === '/midjourney/v1/fetch') {
      this.fetches++;
      const job = this.jobs.get(url.searchParams.get('jobId') ?? '');
      if (!job) return json(res, 200, { status: 'FAILED', message: 'job not found', data: null });
      return json(res, 200, this.view(job, Date.now()));
    }
    json(res, 404, { status: 'FAILED', message: 'Not Found', data: null });
  }

  private create(prompt: string, hookUrl: string | undefined): BenchJob {
    const now = Date.now();
    const job: BenchJob = { jobId: randomUUID(), prompt, createdAt: now, completesAt: now + (this.opts.progress.length + 1) * this.opts.stepMs, hookUrl };
    this.jobs.set(job.jobId, job);
    this.order.push(job);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight(now));
    if (hookUrl) setTimeout(() => void this.push(job, hookUrl), job.completesAt - now);
    return job;
  }

  private async push(job: BenchJob, hookUrl: string): Promise<void> {
    job.hookSentAt = Date.now();
    try {
      const res = await fetch(hookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(this.view(job, job.hookSentAt)) });
      await res.arrayBuffer();
      job.hookStatus = res.status;
    } catch {
      job.hookStatus = 0;
    }
    job.hookAnsweredAt = Date.now();
  }

  private view(job: BenchJob, now: number): Record<string, unknown> {
    const step = Math.floor((now - job.createdAt) / this.opts.stepMs);
    const done = now >= job.completesAt;
    const status = done ? 'SUCCESS' : step === 0 ? 'PENDING_QUEUE' : 'ON_QUEUE';
    const progress = done ? 100 : step === 0 ? 0 : this.opts.progress[Math.min(step - 1, this.opts.progress.length - 1)];
    return {
      status,
      message: 'success',
      jobId: job.jobId,
      data: {
        action: 'imagine',
        jobId: job.jobId,
        progress: String(progress),
        prompt: job.prompt,
        discordImage: null,
        cdnImage: done ? `${this.url}/assets/${job.jobId}.png` : null,
        width: this.opts.imageSide,
        height: this.opts.imageSide,
        components: done ? GRID : [],
        images: null,
        seed: null,
      },
    };
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
