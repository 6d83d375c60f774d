// A fake ImagineAPI (imagineapi.dev) speaking its wire format as the quick-start documents it: Bearer auth,
// `POST /items/images/` → `{data:{id, status:"pending", ...}}`, `GET /items/images/{id}` moving through
// pending → in-progress (partial image in `url`) → completed (grid in `url`, four `upscaled_urls`), or failed
// with `error`. Directus-style errors (`{errors:[{message, extensions:{code}}]}`), and 403 for an unknown id
// as Directus answers. Images are real PNGs under `/assets/`.
import { randomUUID } from 'node:crypto';
import { PromptRelayFake, pushJson, sendJson, sendPng, type FakeRelayOptions, type Injected, type PromptJob, type RecordedRequest } from './relay-fake-kit.ts';

export interface FakeImage {
  id: string;
  prompt: string;
  results: string | null;
  user_created: string;
  date_created: string;
  status: 'pending' | 'in-progress' | 'completed' | 'failed';
  progress: number | null;
  url: string | null;
  error: string | null;
  upscaled_urls: string[] | null;
  upscaled: string[];
  ref: string | null;
}

/** `paced`: keeps drawing (progress creeping up) until released: a slow job, without racing the clock. */
interface Job extends PromptJob {
  image: FakeImage;
}

export type ImagineApiFailure = '5xx' | 'auth' | 'rate_limit' | 'malformed' | 'bad_request';

const ANSWERS: Record<ImagineApiFailure, Injected> = {
  '5xx': { status: 503, body: { errors: [{ message: 'Service Unavailable', extensions: { code: 'SERVICE_UNAVAILABLE' } }] } },
  auth: { status: 401, body: { errors: [{ message: 'Invalid user credentials.', extensions: { code: 'INVALID_CREDENTIALS' } }] } },
  rate_limit: { status: 429, body: { errors: [{ message: 'Too many requests, retry after 1s.', extensions: { code: 'REQUESTS_EXCEEDED' } }] } },
  malformed: { status: 200, body: '{"data": {"id": ', raw: true },
  bad_request: { status: 400, body: { errors: [{ message: 'Validation failed for field "prompt".', extensions: { code: 'FAILED_VALIDATION' } }] } },
};

const USER = '4df804f1-e32e-4e1c-be58-6acbe48cce98';

/**
 * `failPrompts`: jobs whose prompt matches end `failed` with this `error`. `pacePrompts`: they stay in progress,
 * progress creeping up, until `release()`.
 */
export class FakeImagineApi extends PromptRelayFake<Job> {
  private constructor(opts: FakeRelayOptions) {
    super(opts, 'imagine-test-key');
  }

  /** `stepMs`: time per state: pending, then in-progress at 40% and 80%, then completed. */
  static start(opts: FakeRelayOptions = {}): Promise<FakeImagineApi> {
    return new FakeImagineApi(opts).listening();
  }

  /** The next `times` requests (creates only, unless `onFetch`) answer with the given failure. */
  inject(kind: ImagineApiFailure, times = 1, onFetch = false): void {
    this.server.inject((r) => (onFetch ? r.method === 'GET' : r.method === 'POST') && r.path.startsWith('/items/images'), ANSWERS[kind], times);
  }

  private webhook: { url: string; seen: Map<string, string>; answers: number[] } | undefined;

  /**
   * The account-wide webhook as set in ImagineAPI's dashboard: every create and every change of any job of
   * the account is POSTed there as `{event, payload}`. Returns the HTTP statuses the receiver answered.
   */
  setWebhook(url: string): number[] {
    const answers: number[] = [];
    this.everyTick(() => this.pushChanges()).unref();
    this.webhook = { url, seen: new Map(), answers };
    return answers;
  }

  private async pushChanges() {
    const hook = this.webhook;
    if (!hook) return;
    for (const job of this.jobs.values()) {
      const image = this.advance(job);
      const state = `${image.status}:${image.progress}`;
      const before = hook.seen.get(image.id);
      if (before === state) continue;
      hook.seen.set(image.id, state);
      const event = before === undefined ? 'images.items.create' : 'images.items.update';
      hook.answers.push(await pushJson(hook.url, { event, payload: { ...image } }));
    }
  }

  /** Every record created so far, as it is now, oldest first. */
  images(): FakeImage[] {
    return [...this.jobs.values()].map((job) => this.advance(job));
  }

  /** A job's current record, for assertions. */
  image(id: string): FakeImage | undefined {
    const job = this.jobs.get(id);
    return job && this.advance(job);
  }

  private asset(name: string) {
    return `${this.url}/assets/${name}/${name}.png`;
  }

  /** The image as it is now: state follows the time since creation, like the real queue. */
  private advance(job: Job): FakeImage {
    const img = job.image;
    if (img.status === 'completed' || img.status === 'failed') return img;
    const step = Math.floor((Date.now() - job.createdAt) / this.stepMs);
    if (job.paced && step >= 1) {
      img.status = 'in-progress';
      img.progress = this.pacedProgress(job);
      img.url = this.asset(`${img.id}-preview-${img.progress}`);
    } else if (job.paced) {
      // still pending
    } else if (step >= 1 && step < 3) {
      img.status = 'in-progress';
      img.progress = step === 1 ? 40 : 80;
      img.url = this.asset(`${img.id}-preview-${img.progress}`);
    } else if (step >= 3 && job.failWith) {
      Object.assign(img, { status: 'failed', progress: null, url: null, error: job.failWith });
    } else if (step >= 3) {
      const results = randomUUID();
      const singles = [1, 2, 3, 4].map(() => randomUUID());
      Object.assign(img, {
        status: 'completed',
        progress: null,
        results,
        url: this.asset(results),
        upscaled_urls: singles.map((s) => this.asset(s)),
        // The quick-start shows `upscaled` in a different order than `upscaled_urls`: the URLs are what count.
        upscaled: [...singles].sort(),
      });
    }
    return img;
  }

  protected async route(req: RecordedRequest, res: import('node:http').ServerResponse) {
    if (req.method === 'GET' && req.path.startsWith('/assets/')) {
      const name = req.path.split('/')[2] ?? 'x';
      return sendPng(res, name, name.includes('preview') ? 32 : 128, name.includes('preview') ? 32 : 128);
    }
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return sendJson(res, 401, ANSWERS.auth.body);
    if (req.method === 'GET' && req.path === '/items/status') return sendJson(res, 200, { data: { bot_status: 'healthy' } });
    if (req.method === 'POST' && (req.path === '/items/images/' || req.path === '/items/images')) {
      const body = req.body as { prompt?: unknown; ref?: unknown } | undefined;
      if (!body || typeof body !== 'object' || typeof body.prompt !== 'string' || !body.prompt.trim()) return sendJson(res, 400, ANSWERS.bad_request.body);
      const image: FakeImage = {
        id: randomUUID(),
        prompt: body.prompt,
        results: null,
        user_created: USER,
        date_created: new Date().toISOString(),
        status: 'pending',
        progress: null,
        url: null,
        error: null,
        upscaled_urls: null,
        upscaled: [],
        ref: typeof body.ref === 'string' ? body.ref : null,
      };
      this.jobs.set(image.id, { image, prompt: image.prompt, ...this.rulesFor(image.prompt) });
      return sendJson(res, 200, { data: image });
    }
    const m = /^\/items\/images\/([^/?]+)$/.exec(req.path);
    if (req.method === 'GET' && m) {
      const job = this.jobs.get(decodeURIComponent(m[1]!));
      // Directus does not say "not found": an item you may not read and one that does not exist look the same.
      if (!job) return sendJson(res, 403, { errors: [{ message: "You don't have permission to access this.", extensions: { code: 'FORBIDDEN' } }] });
      return sendJson(res, 200, { data: this.advance(job) });
    }
    return sendJson(res, 404, { errors: [{ message: 'Route not found.', extensions: { code: 'ROUTE_NOT_FOUND' } }] });
  }
}
