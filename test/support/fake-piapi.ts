// A fake PiAPI unified task API for Midjourney: `x-api-key` auth; `POST /api/v1/task {model, task_type, input,
// config:{webhook_config:{endpoint, secret}}}` → `{code:200, data:<task>, message:"success"}`;
// `GET /api/v1/task/{id}`; `DELETE /api/v1/task/{id}` cancels a pending job. Tasks move pending → processing
// (progress, preview in image_url) → completed (grid or single in image_url, `output.actions`) or failed
// (`error.message`). With a webhook_config, every change is POSTed as `{timestamp, data:<task>}` with the
// secret in `x-webhook-secret`; it can also resend duplicates and stale updates, as relays do.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { PromptRelayFake, pushJson, sendJson, sendPng, type FakeRelayOptions, type Injected, type PromptJob, type RecordedRequest } from './relay-fake-kit.ts';

export interface FakePiapiTask {
  task_id: string;
  model: 'midjourney';
  task_type: string;
  status: 'pending' | 'processing' | 'completed' | 'failed' | 'staged';
  config: { service_mode: string; webhook_config: { endpoint: string; secret: string } };
  input: Record<string, unknown>;
  output: {
    image_url: string;
    image_urls: string[] | null;
    temporary_image_urls: string[] | null;
    discord_image_url: string;
    actions: string[];
    progress: number;
    intermediate_image_urls: string[] | null;
  };
  meta: { created_at: string; started_at: string; ended_at: string };
  detail: null;
  logs: unknown[];
  error: { code: number; raw_message: string; message: string; detail: null };
}

/** `paced`: keeps drawing (progress creeping up) until released: a slow job, without racing the clock. */
interface Job extends PromptJob {
  task: FakePiapiTask;
  /** Stays pending (a full queue upstream) until released. */
  held?: boolean;
  /** Last state pushed, so each change is pushed once. */
  pushed?: string;
}

const GRID_ACTIONS = ['reroll', 'upscale1', 'upscale2', 'upscale3', 'upscale4', 'variation1', 'variation2', 'variation3', 'variation4'];
const SINGLE_ACTIONS = ['high_variation', 'low_variation', 'outpaint_1.5x', 'outpaint_2x', 'pan_down', 'pan_left', 'pan_right', 'pan_up', 'upscale_2x', 'upscale_4x'];

/** Which `output.actions` entry allows a request. */
function actionName(taskType: string, input: Record<string, unknown>): string | undefined {
  const index = String(input.index ?? '');
  if (taskType === 'upscale') return /^[1-4]$/.test(index) ? `upscale${index}` : `upscale_${index}`;
  if (taskType === 'variation') return /^[1-4]$/.test(index) ? `variation${index}` : index;
  if (taskType === 'reroll') return 'reroll';
  if (taskType === 'pan') return `pan_${String(input.direction ?? '')}`;
  if (taskType === 'outpaint') return `outpaint_${String(input.zoom_ratio ?? '')}x`;
  return undefined;
}

export type PiapiFailure = '5xx' | 'auth' | 'no_credits' | 'queue_full' | 'malformed' | 'rate_limit';

const ANSWERS: Record<PiapiFailure, Injected> = {
  '5xx': { status: 502, body: { code: 502, data: null, message: 'bad gateway' } },
  auth: { status: 401, body: { code: 401, data: null, message: 'Invalid API key' } },
  no_credits: { status: 400, body: { code: 400, data: null, message: 'insufficient credits, please top up your account' } },
  queue_full: { status: 400, body: { code: 400, data: null, message: 'too many pending tasks: concurrency limit reached' } },
  rate_limit: { status: 429, body: { code: 429, data: null, message: 'rate limit exceeded' } },
  malformed: { status: 200, body: '{"code":200,"data":{"task_id":', raw: true },
};

const EMPTY_OUTPUT = (): FakePiapiTask['output'] => ({
  image_url: '', image_urls: null, temporary_image_urls: null, discord_image_url: '', actions: [], progress: 0, intermediate_image_urls: null,
});

/**
 * `failPrompts`: jobs whose prompt matches end `failed` with this error message. `pacePrompts`: they stay
 * processing, progress creeping up, until `release()`.
 */
export class FakePiapi extends PromptRelayFake<Job> {
  /** Push each final update twice, then a stale progress update (what a retrying relay may do). */
  replayPushes = false;
  /** Accept DELETE but let the job go on and finish: a cancel that reached PiAPI too late. */
  cancelsTooLate = false;
  /** Status codes our bot answered to each push. */
  readonly pushAnswers: number[] = [];
  private readonly holds: RegExp[] = [];

  private constructor(opts: FakeRelayOptions) {
    super(opts, 'piapi-test-key');
    this.everyTick(() => this.tick());
  }

  /** `stepMs`: time per state: pending, processing 30%, processing 70%, then done. */
  static start(opts: FakeRelayOptions = {}): Promise<FakePiapi> {
    return new FakePiapi(opts).listening();
  }

  /** Jobs whose prompt matches stay pending until `release()`: a job waiting in PiAPI's queue. */
  holdPrompts(match: RegExp): void {
    this.holds.push(match);
  }

  /**
   * Lets held and paced jobs go on: held ones start now, paced ones finish. With `match`, only the jobs whose
   * prompt matches, and later jobs are still held or paced as told.
   */
  override release(match?: RegExp): void {
    if (!match) this.holds.length = 0;
    for (const job of this.jobsMatching(match)) {
      if (job.held) Object.assign(job, { held: false, createdAt: Date.now() });
    }
    super.release(match);
  }

  /** The next `times` create requests (or reads, with `onFetch`) answer with the given failure. */
  inject(kind: PiapiFailure, times = 1, onFetch = false): void {
    this.server.inject((r) => r.path.startsWith('/api/v1/task') && r.method === (onFetch ? 'GET' : 'POST'), ANSWERS[kind], times);
  }

  task(id: string): FakePiapiTask | undefined {
    const job = this.jobs.get(id);
    return job && this.advance(job);
  }

  private asset(name: string) {
    return `${this.url}/assets/${name}.png`;
  }

  private advance(job: Job): FakePiapiTask {
    const t = job.task;
    if (t.status === 'completed' || t.status === 'failed' || job.held) return t;
    const step = Math.floor((Date.now() - job.createdAt) / this.stepMs);
    const now = new Date().toISOString();
    if (job.paced && step >= 1) {
      t.status = 'processing';
      t.meta.started_at ||= now;
      t.output.progress = this.pacedProgress(job);
      t.output.image_url = this.asset(`${t.task_id}-preview-${t.output.progress}`);
    } else if (job.paced) {
      // still pending
    } else if (step >= 1 && step < 3) {
      t.status = 'processing';
      t.meta.started_at ||= now;
      t.output.progress = step === 1 ? 30 : 70;
      t.output.image_url = this.asset(`${t.task_id}-preview-${t.output.progress}`);
    } else if (step >= 3 && job.failWith) {
      t.status = 'failed';
      t.meta.ended_at = now;
      t.output = EMPTY_OUTPUT();
      t.error = { code: 10000, raw_message: job.failWith, message: job.failWith, detail: null };
    } else if (step >= 3) {
      const single = t.task_type === 'upscale';
      t.status = 'completed';
      t.meta.ended_at = now;
      const name = `${t.task_id}-${single ? 'single' : 'grid'}`;
      const parts = single ? null : [1, 2, 3, 4].map((i) => this.asset(`${t.task_id}-part${i}`));
      t.output = {
        image_url: this.asset(name),
        image_urls: parts,
        temporary_image_urls: parts,
        discord_image_url: `https://cdn.discordapp.com/attachments/0/0/${name}.png?ex=expires`,
        actions: single ? [...SINGLE_ACTIONS] : [...GRID_ACTIONS],
        progress: 100,
        intermediate_image_urls: null,
      };
    }
    return t;
  }

  private async tick() {
    for (const job of this.jobs.values()) {
      this.advance(job);
      const state = `${job.task.status}:${job.task.output.progress}`;
      if (job.pushed === state) continue;
      job.pushed = state;
      void this.push(structuredClone(job.task));
    }
  }

  private async push(task: FakePiapiTask) {
    const { endpoint, secret } = task.config.webhook_config;
    if (!endpoint) return;
    const send = async (data: FakePiapiTask) => {
      this.pushAnswers.push(await pushJson(endpoint, { timestamp: Math.floor(Date.now() / 1000), data }, secret ? { 'x-webhook-secret': secret } : {}));
    };
    await send(task);
    if (this.replayPushes && (task.status === 'completed' || task.status === 'failed')) {
      await send(task);
      // An out-of-order progress update arriving after the result.
      await send({ ...task, status: 'processing', output: { ...task.output, progress: 30 } });
    }
  }

  protected route(req: RecordedRequest, res: ServerResponse) {
    if (req.method === 'GET' && req.path.startsWith('/assets/')) return this.serveAsset(req.path, res);
    if (req.headers['x-api-key'] !== this.apiKey) return sendJson(res, 401, ANSWERS.auth.body);
    if (req.method === 'POST' && req.path === '/api/v1/task') return this.create(req, res);
    const m = /^\/api\/v1\/task\/([^/?]+)$/.exec(req.path);
    const job = m ? this.jobs.get(decodeURIComponent(m[1]!)) : undefined;
    if (m && !job) return sendJson(res, 404, { code: 404, data: null, message: 'task not found' });
    if (req.method === 'GET' && job) return sendJson(res, 200, { code: 200, data: this.advance(job), message: 'success' });
    if (req.method === 'DELETE' && job) {
      this.advance(job);
      if (job.task.status !== 'pending' && job.task.status !== 'staged') {
        return sendJson(res, 400, { code: 400, data: null, message: 'only pending tasks can be cancelled' });
      }
      if (this.cancelsTooLate) return sendJson(res, 200, { code: 200, data: null, message: 'success' });
      job.task.status = 'failed';
      job.task.error = { code: 10001, raw_message: 'task cancelled', message: 'task cancelled by user', detail: null };
      return sendJson(res, 200, { code: 200, data: null, message: 'success' });
    }
    return sendJson(res, 404, { code: 404, data: null, message: 'not found' });
  }

  private async serveAsset(path: string, res: ServerResponse) {
    const name = path.slice('/assets/'.length).replace(/\.png$/, '');
    const size = name.endsWith('grid') ? 128 : name.includes('preview') ? 32 : 96;
    await sendPng(res, name, size, size);
  }

  private create(req: RecordedRequest, res: ServerResponse) {
    const body = req.body as { model?: unknown; task_type?: unknown; input?: unknown; config?: { webhook_config?: { endpoint?: unknown; secret?: unknown } } } | undefined;
    const invalid = (message: string) => sendJson(res, 400, { code: 400, data: null, message });
    if (!body || typeof body !== 'object') return invalid('invalid request body');
    if (body.model !== 'midjourney') return invalid('unsupported model');
    const taskType = String(body.task_type ?? '');
    const input = (body.input && typeof body.input === 'object' ? body.input : {}) as Record<string, unknown>;
    let prompt = '';
    if (taskType === 'imagine') {
      if (typeof input.prompt !== 'string' || !input.prompt.trim()) return invalid('input.prompt is required');
      prompt = input.prompt;
    } else {
      const origin = this.jobs.get(String(input.origin_task_id ?? ''));
      if (!origin) return invalid('origin task not found');
      const parent = this.advance(origin);
      if (parent.status !== 'completed') return invalid('origin task is not completed');
      const name = actionName(taskType, input);
      if (!name || !parent.output.actions.includes(name)) return invalid(`action ${name ?? taskType} is not available for the origin task`);
      prompt = String(parent.input.prompt ?? '');
    }
    const hook = body.config?.webhook_config;
    const task: FakePiapiTask = {
      task_id: randomUUID(),
      model: 'midjourney',
      task_type: taskType,
      status: 'pending',
      config: { service_mode: 'public', webhook_config: { endpoint: typeof hook?.endpoint === 'string' ? hook.endpoint : '', secret: typeof hook?.secret === 'string' ? hook.secret : '' } },
      input: { ...input, prompt },
      output: EMPTY_OUTPUT(),
      meta: { created_at: new Date().toISOString(), started_at: '', ended_at: '' },
      detail: null,
      logs: [],
      error: { code: 0, raw_message: '', message: '', detail: null },
    };
    this.jobs.set(task.task_id, { task, prompt, held: this.holds.some((h) => h.test(prompt)), ...this.rulesFor(prompt) });
    return sendJson(res, 200, { code: 200, data: task, message: 'success' });
  }
}
