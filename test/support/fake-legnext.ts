// A fake LegNext Midjourney API (https://docs.legnext.ai), speaking the documented wire format:
// - `x-api-key` auth; base `/api` (https://docs.legnext.ai/llms-full.txt: "Base URL: https://api.legnext.ai/api").
// - `POST /api/v1/diffusion {text, callback?}` (https://docs.legnext.ai/api-reference/image-generation/diffusion),
//   `/variation {jobId, imageNo 0–3, type 0 subtle|1 strong, remixPrompt?}` (…/variation), `/upscale {jobId, imageNo,
//   type 0 subtle|1 creative}` (…/upscale), `/reroll {jobId}`, `/pan {jobId, imageNo, direction 0 down|1 right|2 up|
//   3 left, scale 1.1–3.0}` (…/pan), `/outpaint {jobId, imageNo, scale 1.1–2.0}` (…/outpaint), `/blend {base64Array
//   2–5, dimension PORTRAIT|SQUARE|LANDSCAPE}` (…/blend), `/describe {imgUrl}` (…/describe); each answers the job
//   object `{job_id, model, task_type, status, config, input, output, meta, detail, logs, error}`.
// - `GET /api/v1/job/{job_id}` (https://docs.legnext.ai/get-task): status pending → staged → processing →
//   completed | failed; a finished grid has `output.image_url` (the grid; empty in the get-task example, see
//   `gridless`), `image_urls` (four images), `seed` and
//   `available_actions` (per-image lists, as in github.com/legnext-ai/sdks docs/SDK_TEST_RESULTS.md).
// - `callback`: the job object POSTed when it ends (the OpenAPI's "Webhook Support"; its exact body is not shown).
// - Refusals `{code, message, raw_message, detail}` with the HTTP status of the quickstart's table: 400 bad
//   request, 401 bad key, 402 no credits, 403 sensitive content, 429, 5xx.
// - Video (github.com/legnext-ai/sdks openapi/openapi.yaml, tag "Video"; openapi-complete.yaml VideoDiffusionRequest,
//   ExtendVideoRequest): `POST /api/v1/video-diffusion {jobId + imageNo 0–3 | prompt (an image URL first, text
//   mode), prompt 1–8192, videoType 0 480p|1 720p}` → "the generated videos (4 variations)"; `POST
//   /api/v1/extend-video {jobId, videoNo 0–3, prompt?}` → "the extended video" (one clip, 4 s longer). Neither page
//   shows a finished video job: this fake lists the clips in `output.video_urls` (or, with `videoShape =
//   'image_urls'`, in `image_urls`), real MP4s (fake-clips.ts) at /videos/<job_id>-<n>.mp4, task_type the endpoint.
// - Vary (Region) (openapi.yaml /api/v1/inpaint): `{jobId, imageNo, mask: {areas: [{width, height 500–4096 (the
//   UploadPaintRequest schema of openapi-complete.yaml), points [x1,y1,…,x4,y4]}]} | {url}, remixPrompt 1–8192?}`,
//   allowed where `available_actions.inpaint` lists the image → "the inpainted images (4 variations)": a grid.
// The job object documents no progress percentage and no preview, so this fake sends none.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { CLIP_SECONDS, EXTEND_SECONDS, sendClip, type FakeVideo } from './fake-clips.ts';
import { PromptRelayFake, pushJson, sendJson, sendPng, type FakeRelayOptions, type Injected, type PromptJob, type RecordedRequest } from './relay-fake-kit.ts';

type Status = 'pending' | 'staged' | 'processing' | 'completed' | 'failed';

export interface FakeLegnextJob {
  job_id: string;
  model: 'midjourney';
  task_type: string;
  status: Status;
  config: { service_mode: string; webhook_config: { endpoint: string; secret: string } };
  input: null;
  output: Record<string, unknown>;
  meta: { created_at: string; started_at: string; ended_at: string; usage: { type: string; frozen: number; consume: number } };
  detail: null;
  logs: unknown[];
  error: { code: number; raw_message: string; message: string; detail: null };
}

/** `paced`: stays processing until released: a window for progress edits that no timing can miss. */
interface Job extends PromptJob {
  job: FakeLegnextJob;
  pushed?: boolean;
  /** A video job's clips once it is done. */
  video?: FakeVideo;
}

export type LegnextFailure = '5xx' | 'auth' | 'no_credits' | 'sensitive' | 'rate_limit' | 'malformed';

const refusal = (code: number, message: string) => ({ code, message, raw_message: message, detail: null });

const ANSWERS: Record<LegnextFailure, Injected> = {
  '5xx': { status: 502, body: refusal(502, 'bad gateway') },
  auth: { status: 401, body: refusal(401, 'Invalid API key') },
  no_credits: { status: 402, body: refusal(402, 'Insufficient credits, please top up your balance') },
  sensitive: { status: 403, body: refusal(403, 'Sensitive content detected in prompt') },
  rate_limit: { status: 429, body: refusal(429, 'Too many requests') },
  malformed: { status: 200, body: '{"job_id":', raw: true },
};

/** The four prompts every describe job of this fake suggests. */
export const LEGNEXT_DESCRIPTIONS = [1, 2, 3, 4].map((i) => `described image, take ${i} --ar 1:1`);

const ALL = [0, 1, 2, 3];
/** A grid's per-image actions (what LegNext listed for a diffusion job in the SDK test results). */
const GRID_ACTIONS = (inpaint: number[]) => ({ edit: ALL, inpaint, outpaint: ALL, pan: ALL, remix: ALL, reroll: true, upscale: ALL, variation: ALL });
/** Task types whose result is four images. */
const GRID_TYPES = new Set(['diffusion', 'variation', 'reroll', 'pan', 'outpaint', 'blend', 'inpaint']);

/**
 * `failPrompts`: jobs whose prompt matches end `failed` with this error message. `pacePrompts`: they stay
 * processing until `release()`.
 */
export class FakeLegnext extends PromptRelayFake<Job> {
  /** Finished grids come without their four-up picture (`image_url: ""`), as in the docs' get-task example. */
  gridless = false;
  /** The images new grids list under `available_actions.inpaint` (all four in the SDK test results). */
  gridInpaint: number[] = ALL;
  /** Where finished video jobs list their clips (the docs show neither). */
  videoShape: 'video_urls' | 'image_urls' = 'video_urls';
  /** Status codes our bot answered to each callback. */
  readonly pushAnswers: number[] = [];
  /** Every status a GET /job answered with. */
  private readonly readStatuses = new Set<Status>();

  private constructor(opts: FakeRelayOptions) {
    super(opts, 'legnext-test-key');
    this.everyTick(() => this.tick());
  }

  /** `stepMs`: time per state: pending, staged, processing, then done. */
  static start(opts: FakeRelayOptions = {}): Promise<FakeLegnext> {
    return new FakeLegnext(opts).listening();
  }

  /** Resolves once some job has been read (or pushed) in this status. */
  async waitForStatus(status: Status, timeoutMs = 5_000): Promise<void> {
    for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
      if (this.readStatuses.has(status)) return;
    }
    throw new Error(`FakeLegnext: no job was read as ${status}`);
  }

  /** The next `times` create requests (or reads, with `onFetch`) answer with the given failure. */
  inject(kind: LegnextFailure, times = 1, onFetch = false): void {
    this.server.inject((r) => r.path.startsWith('/api/v1/') && r.method === (onFetch ? 'GET' : 'POST'), ANSWERS[kind], times);
  }

  /** The POSTs to `/api/v1/<endpoint>` received so far, oldest first. */
  posts(endpoint?: string): Array<Record<string, unknown>> {
    return this.requests
      .filter((r) => r.method === 'POST' && (!endpoint || r.path === `/api/v1/${endpoint}`))
      .map((r) => r.body as Record<string, unknown>);
  }

  private asset(name: string) {
    return `${this.url}/assets/${name}.png`;
  }

  /** The seed a finished job lists (`output.seed`). */
  seedOf(jobId: string): string | undefined {
    const seed = this.jobs.get(jobId)?.job.output.seed;
    return typeof seed === 'string' && seed ? seed : undefined;
  }

  /** The ids of the jobs of one task_type (the endpoint's name), oldest first. */
  jobsOf(taskType: string): string[] {
    return [...this.jobs.values()].filter((j) => j.job.task_type === taskType).map((j) => j.job.job_id);
  }

  /** A finished job's clips by its id (for comparing with what Discord got). */
  videoOf(jobId: string): FakeVideo | undefined {
    return this.jobs.get(jobId)?.video;
  }

  private advance(entry: Job): FakeLegnextJob {
    const j = entry.job;
    if (j.status === 'completed' || j.status === 'failed') return j;
    const step = Math.floor((Date.now() - entry.createdAt) / this.stepMs);
    const now = new Date().toISOString();
    if (step >= 2 && (entry.paced || step < 3)) {
      j.status = 'processing';
      if (j.meta.started_at.startsWith('0001')) j.meta.started_at = now;
    } else if (step === 1) {
      j.status = 'staged';
    } else if (step >= 3 && entry.failWith) {
      j.status = 'failed';
      j.meta.ended_at = now;
      j.error = { code: 10000, raw_message: entry.failWith, message: entry.failWith, detail: null };
    } else if (step >= 3) {
      j.status = 'completed';
      j.meta.ended_at = now;
      j.meta.usage.consume = j.meta.usage.frozen;
      j.output = this.result(j, entry.video);
    }
    return j;
  }

  private result(j: FakeLegnextJob, video: FakeVideo | undefined): Record<string, unknown> {
    const seed = String(Math.floor(Math.random() * 4e9));
    if (video) {
      const clips = video.patterns.map((_, i) => `${this.url}/videos/${j.job_id}-${i + 1}.mp4`);
      return this.videoShape === 'video_urls' ? { image_url: '', image_urls: null, video_urls: clips, seed } : { image_url: '', image_urls: clips, seed };
    }
    if (j.task_type === 'describe') {
      const prompts = LEGNEXT_DESCRIPTIONS;
      // The docs show the four prompts in `promptEn`, numbered 1️⃣–4️⃣ and separated by blank lines.
      return { promptEn: prompts.map((p, i) => `${i + 1}\uFE0F\u20E3 ${p}`).join('\n\n'), description: '', finalPrompt: '', prompts: [] };
    }
    if (GRID_TYPES.has(j.task_type)) {
      return {
        image_url: this.gridless ? '' : this.asset(`${j.job_id}-grid`),
        image_urls: ALL.map((i) => this.asset(`${j.job_id}-${i}`)),
        seed,
        available_actions: GRID_ACTIONS([...this.gridInpaint]),
      };
    }
    // An upscale: one image; the docs list no further actions for it.
    return { image_url: this.asset(`${j.job_id}-upscaled`), image_urls: null, seed };
  }

  private async tick() {
    for (const entry of this.jobs.values()) {
      const j = this.advance(entry);
      if (entry.pushed || (j.status !== 'completed' && j.status !== 'failed')) continue;
      entry.pushed = true;
      const endpoint = j.config.webhook_config.endpoint;
      if (endpoint) this.pushAnswers.push(await pushJson(endpoint, structuredClone(j)));
    }
  }

  protected route(req: RecordedRequest, res: ServerResponse) {
    if (req.method === 'GET' && req.path.startsWith('/assets/')) return this.serveAsset(req.path, res);
    if (req.method === 'GET' && req.path.startsWith('/videos/')) {
      const m = /^\/videos\/([\w-]+)-([1-4])\.mp4$/.exec(req.path);
      return sendClip(res, m ? this.jobs.get(m[1]!)?.video : undefined, Number(m?.[2]));
    }
    if (req.headers['x-api-key'] !== this.apiKey) return sendJson(res, 401, ANSWERS.auth.body);
    const get = /^\/api\/v1\/job\/([^/?]+)$/.exec(req.path);
    if (req.method === 'GET' && get) {
      const entry = this.jobs.get(decodeURIComponent(get[1]!));
      if (!entry) return sendJson(res, 404, refusal(404, 'job not found'));
      const job = this.advance(entry);
      this.readStatuses.add(job.status);
      return sendJson(res, 200, job);
    }
    const post = /^\/api\/v1\/([a-z-]+)$/.exec(req.path);
    if (req.method === 'POST' && post) return this.create(post[1]!, req, res);
    return sendJson(res, 404, refusal(404, 'not found'));
  }

  private async serveAsset(path: string, res: ServerResponse) {
    const name = path.slice('/assets/'.length).replace(/\.png$/, '');
    const size = name.endsWith('grid') ? 128 : name.endsWith('upscaled') ? 192 : 96;
    await sendPng(res, name, size, size);
  }

  private create(endpoint: string, req: RecordedRequest, res: ServerResponse) {
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const invalid = (message: string) => sendJson(res, 400, refusal(400, message));
    const int = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
    const num = (v: unknown, min: number, max: number) => typeof v === 'number' && v >= min && v <= max;
    let prompt: string;
    let video: FakeVideo | undefined;
    const optionalPrompt = (key: string) => body[key] === undefined || (typeof body[key] === 'string' && body[key].length >= 1 && body[key].length <= 8192);
    /** A finished job of ours named by `jobId`, or the reason it is refused. */
    const finished = (): Job | string => {
      const parent = this.jobs.get(String(body.jobId ?? ''));
      if (!parent) return 'Invalid request parameters: jobId not found';
      return this.advance(parent).status === 'completed' ? parent : 'the original job is not completed';
    };
    if (endpoint === 'video-diffusion') {
      if (!int(body.videoType, 0, 1)) return invalid('Invalid request parameters: videoType');
      if (!optionalPrompt('prompt')) return invalid('Invalid request parameters: prompt');
      if (body.jobId !== undefined || body.imageNo !== undefined) {
        const parent = finished();
        if (typeof parent === 'string') return invalid(parent);
        if (parent.video) return invalid('the original job is a video');
        const images = parent.job.output.image_urls;
        const count = Array.isArray(images) && images.length > 0 ? images.length : 1;
        if (!int(body.imageNo, 0, count - 1)) return invalid('Invalid request parameters: imageNo');
        prompt = typeof body.prompt === 'string' ? body.prompt : parent.prompt;
      } else {
        // Text mode: the prompt is required (and, to animate, starts with the image's URL).
        if (typeof body.prompt !== 'string') return invalid('Invalid request parameters: prompt');
        prompt = body.prompt;
      }
      video = { seconds: CLIP_SECONDS, patterns: [1, 2, 3, 4] };
    } else if (endpoint === 'extend-video') {
      const parent = finished();
      if (typeof parent === 'string') return invalid(parent);
      if (!parent.video) return invalid('the original job is not a video');
      if (!int(body.videoNo, 0, parent.video.patterns.length - 1)) return invalid('Invalid request parameters: videoNo');
      if (!optionalPrompt('prompt')) return invalid('Invalid request parameters: prompt');
      prompt = typeof body.prompt === 'string' ? body.prompt : parent.prompt;
      video = { seconds: parent.video.seconds + EXTEND_SECONDS, patterns: [parent.video.patterns[body.videoNo as number]!] };
    } else if (endpoint === 'inpaint') {
      const parent = finished();
      if (typeof parent === 'string') return invalid(parent);
      const allowed = ((parent.job.output.available_actions ?? {}) as Record<string, unknown>).inpaint;
      if (!int(body.imageNo, 0, 3) || !Array.isArray(allowed) || !allowed.includes(body.imageNo)) return invalid(`inpaint is not available for image ${String(body.imageNo)}`);
      const mask = (body.mask && typeof body.mask === 'object' ? body.mask : {}) as Record<string, unknown>;
      const areaOk = (a: unknown) => {
        const { width, height, points } = (a && typeof a === 'object' ? a : {}) as Record<string, unknown>;
        if (!int(width, 500, 4096) || !int(height, 500, 4096) || !Array.isArray(points) || points.length < 6 || points.length % 2 !== 0) return false;
        return points.every((p, i) => int(p, 0, (i % 2 === 0 ? width : height) as number));
      };
      const byAreas = Array.isArray(mask.areas) && mask.areas.length > 0 && mask.areas.every(areaOk);
      const byUrl = typeof mask.url === 'string' && /^https?:\/\//.test(mask.url);
      if (!byAreas && !byUrl) return invalid('Invalid request parameters: mask');
      if (!optionalPrompt('remixPrompt')) return invalid('Invalid request parameters: remixPrompt');
      prompt = typeof body.remixPrompt === 'string' ? body.remixPrompt : parent.prompt;
    } else if (endpoint === 'diffusion') {
      if (typeof body.text !== 'string' || body.text.length < 1 || body.text.length > 8192) return invalid('Invalid request parameters: text');
      prompt = body.text;
    } else if (endpoint === 'blend') {
      const images = body.base64Array;
      if (!Array.isArray(images) || images.length < 2 || images.length > 5 || !images.every((i) => typeof i === 'string' && i.startsWith('data:image/'))) {
        return invalid('Invalid request parameters: base64Array');
      }
      if (!['PORTRAIT', 'SQUARE', 'LANDSCAPE'].includes(String(body.dimension))) return invalid('Invalid request parameters: dimension');
      prompt = `blend of ${images.length}`;
    } else if (endpoint === 'describe') {
      if (typeof body.imgUrl !== 'string' || !/^https?:\/\//.test(body.imgUrl)) return invalid('Invalid request parameters: imgUrl');
      prompt = `describe ${body.imgUrl}`;
    } else if (['variation', 'upscale', 'reroll', 'pan', 'outpaint'].includes(endpoint)) {
      const parent = this.jobs.get(String(body.jobId ?? ''));
      if (!parent) return invalid('Invalid request parameters: jobId not found');
      const p = this.advance(parent);
      if (p.status !== 'completed') return invalid('the original job is not completed');
      const available = (p.output.available_actions ?? {}) as Record<string, unknown>;
      if (endpoint === 'reroll') {
        if (available.reroll !== true) return invalid('reroll is not available for this job');
      } else {
        if (!int(body.imageNo, 0, 3)) return invalid('Invalid request parameters: imageNo');
        const allowed = available[endpoint];
        if (!Array.isArray(allowed) || !allowed.includes(body.imageNo)) return invalid(`${endpoint} is not available for image ${String(body.imageNo)}`);
        if ((endpoint === 'variation' || endpoint === 'upscale') && !int(body.type, 0, 1)) return invalid('Invalid request parameters: type');
        if (endpoint === 'pan' && (!int(body.direction, 0, 3) || !num(body.scale, 1.1, 3))) return invalid('Invalid request parameters: direction/scale');
        if (endpoint === 'outpaint' && !num(body.scale, 1.1, 2)) return invalid('Invalid request parameters: scale');
      }
      prompt = parent.prompt;
    } else {
      return sendJson(res, 404, refusal(404, 'not found'));
    }
    const callback = typeof body.callback === 'string' ? body.callback : '';
    const job: FakeLegnextJob = {
      job_id: randomUUID(),
      model: 'midjourney',
      task_type: endpoint === 'diffusion' ? 'diffusion' : endpoint,
      status: 'pending',
      config: { service_mode: 'public', webhook_config: { endpoint: callback, secret: '' } },
      input: null,
      output: { image_url: '', image_urls: null, seed: '' },
      meta: { created_at: new Date().toISOString(), started_at: '0001-01-01T00:00:00Z', ended_at: '0001-01-01T00:00:00Z', usage: { type: 'point', frozen: 80, consume: 0 } },
      detail: null,
      logs: [],
      error: { code: 0, raw_message: '', message: '', detail: null },
    };
    this.jobs.set(job.job_id, { job, prompt, video, ...this.rulesFor(prompt) });
    return sendJson(res, 200, job);
  }
}
