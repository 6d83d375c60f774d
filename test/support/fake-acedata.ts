// A fake AceData Cloud Midjourney API on 127.0.0.1, built from the seed document
// (acedata-midjourney-imagine.zh.txt): `POST /midjourney/imagine` blocking, ndjson-streaming (`accept:
// application/x-ndjson`, one line per progress step, `\r\n`-separated) or with `callback_url` (`{task_id}` at
// once, the final result POSTed later), and `POST /midjourney/tasks` retrieve / retrieve_batch.
// Failure injection: `server.inject(...)` for any canned answer (5xx streak, 401, 403 used_up, 429, malformed
// JSON), `failNextJob(reason)` for a job that ends with `{success:false, error}`.
//
// Edit: `POST /midjourney/edits {action: "generate", image_url, prompt, mode?, split_images?, mask?, callback_url?}`
// (AceDataCloud/APIs midjourney/docs/midjourney_edits_api_integration_guide.md, openapi/midjourney.json, which
// allows x-ndjson too) → a result like imagine's; the guide's example shows no `actions`, the openapi's the grid's.
//
// Shorten: `POST /midjourney/shorten {prompt}` → `{prompts: [up to 5]}` at once (AceDataCloud/APIs
// midjourney/docs/midjourney_shorten_api_integration_guide.md).
//
// Seed (📋): `POST /midjourney/seed {image_id}` → `{seed: "3849571023"}` at once (AceDataCloud/APIs
// midjourney/docs/midjourney_seed_api_integration_guide.md; AceDataCloud/SDK python resources/midjourney.py
// `seed(image_id)`); errors `{success: false, error: {code, message}, trace_id}` like every endpoint. This fake
// answers `aceSeedOf(image_id)` for an image it produced (not a preview), else 400 bad_request.
//
// Vary (Region): `{action: "variation_region", image_id, mask, prompt}` on /midjourney/imagine, offered after an
// upscale (the seed's action list). The mask's format: AceDataCloud/MidjourneyMCP tools/imagine_tools.py says a
// base64-encoded image, white = regenerate (the openapi says "Mask image URL"); this fake takes a base64 PNG.
//
// Video, `POST /midjourney/videos`: AceDataCloud/Docs openapi/midjourney.json (request body: action generate|extend,
// mode fast|turbo, resolution 480p|720p, prompt, video_id, video_index from 0, loop, image_url, end_image_url,
// callback_url; `accept: application/x-ndjson` allowed as for imagine) and AceDataCloud/APIs
// midjourney/docs/midjourney_videos_api_integration_guide.md (result `{image_url, image_width, image_height,
// progress: 100, video_id, video_urls: [4 mp4 URLs], task_id, success: true}`, the same for an extend; callback
// `{task_id}` at once). AceDataCloud/MidjourneyMCP tools/video_tools.py: prompt required for both actions,
// video_index defaults to 0. The docs show no stream line of a video job: this fake streams `{progress}` lines,
// then the result. Clips are real MP4s (fake-clips.ts), served at /videos/<video_id>-<n>.mp4.
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { CLIP_SECONDS, EXTEND_SECONDS, sendClip, type FakeVideo as Video } from './fake-clips.ts';
import { JobRelayFake, pushJson, sendJson, sendPng, type FakeRelayOptions, type RecordedRequest } from './relay-fake-kit.ts';

/** What every fake /midjourney/describe answers. */
export const ACE_DESCRIPTIONS = [
  'a red bicycle leaning on a brick wall, golden hour --ar 4:3',
  'vintage bicycle in an alley, street photography --ar 4:3',
  'a bicycle against old bricks, oil painting --ar 4:3',
  'red bike, warm evening light, shallow depth of field --ar 4:3',
];

/** What every fake /midjourney/shorten answers (`prompts`, up to five, as in the shorten guide). */
export const ACE_SHORTENED = [
  'a tabby cat asleep on a sunny windowsill --ar 3:2',
  'tabby cat, windowsill, morning light --ar 3:2',
  'sleeping cat in warm sunlight, cozy --ar 3:2',
  'cat on a windowsill, detailed fur --ar 3:2',
  'cozy morning cat --ar 3:2',
];

/** The seed this fake tells for a finished image (digits, stable per image_id). */
export function aceSeedOf(imageId: string): string {
  return String(Number.parseInt(createHash('sha256').update(imageId).digest('hex').slice(0, 8), 16) % 4_294_967_295);
}

export const ACE_GRID_ACTIONS = ['upscale1', 'upscale2', 'upscale3', 'upscale4', 'reroll', 'variation1', 'variation2', 'variation3', 'variation4'];
// After an upscale, as the seed lists them (variation_region among them).
export const ACE_SINGLE_ACTIONS = [
  'upscale_2x', 'upscale_4x', 'variation_subtle', 'variation_strong', 'variation_region', 'zoom_out_2x', 'zoom_out_1_5x',
  'pan_left', 'pan_right', 'pan_up', 'pan_down',
];

interface Job {
  taskId: string;
  action: string;
  /** Set for /midjourney/videos jobs. */
  video?: Video;
  prompt: string;
  imageId?: string;
  createdAt: number;
  failReason?: string;
  /** Extra time spent at the last progress step. */
  extraMs: number;
  /** The final result, computed once when the job finishes. */
  result?: Record<string, unknown>;
}

interface ImageInfo {
  grid: boolean;
  actions: string[];
}

/** `stepMs`: time per progress step; a job finishes after `PROGRESS.length` steps. */
export interface FakeAceDataOptions extends FakeRelayOptions {
  /** Put `task_id` on every streamed line (the seed's stream example has none). */
  streamTaskIds?: boolean;
}

const PROGRESS = [0, 31, 62, 93];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export class FakeAceData extends JobRelayFake {
  readonly jobs = new Map<string, Job>();
  readonly images = new Map<string, ImageInfo>();
  /** What each `variation_region` request carried: the image, the prompt and the decoded mask PNG. */
  readonly regions: Array<{ imageId: string; prompt: string; mask: Buffer }> = [];
  /** Finished video batches by `video_id`. */
  readonly videos = new Map<string, Video>();
  readonly callbacks: Array<{ url: string; status: number; body: Record<string, unknown> }> = [];
  /** The image_id of every /midjourney/seed request. */
  readonly seedRequests: string[] = [];
  private seq = 0;
  private readonly openStreams = new Set<ServerResponse>();

  private constructor(private readonly opts: FakeAceDataOptions) {
    super(opts, 'ace-test-key');
  }

  /** `failNextJob(reason)`: the job ends with `{success:false, error:{code:'bad_request', message: reason}}`. */
  static start(opts: FakeAceDataOptions = {}): Promise<FakeAceData> {
    return new FakeAceData(opts).listening();
  }

  /** Cuts every ndjson stream in the middle (the jobs go on; retrieve still reports them). */
  breakStreams(): void {
    for (const res of this.openStreams) res.destroy();
    this.openStreams.clear();
  }

  protected route(req: RecordedRequest, res: ServerResponse) {
    if (req.method === 'GET' && req.path.startsWith('/assets/')) return this.serveImage(req.path, res);
    if (req.method === 'GET' && req.path.startsWith('/videos/')) return this.serveClip(req.path, res);
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return sendJson(res, 401, { success: false, error: { code: 'invalid_token', message: 'Invalid token' }, trace_id: 'trace-auth' });
    }
    if (req.method === 'POST' && req.path === '/midjourney/imagine') return this.imagine(req, res);
    if (req.method === 'POST' && req.path === '/midjourney/tasks') return this.tasks(req, res);
    if (req.method === 'POST' && req.path === '/midjourney/videos') return this.videosEndpoint(req, res);
    if (req.method === 'POST' && req.path === '/midjourney/edits') return this.edits(req, res);
    if (req.method === 'POST' && req.path === '/midjourney/shorten') return this.shorten(req, res);
    if (req.method === 'POST' && req.path === '/midjourney/describe') return this.describe(req, res);
    if (req.method === 'POST' && req.path === '/midjourney/seed') return this.seed(req, res);
    sendJson(res, 404, { success: false, error: { code: 'not_found', message: 'Not Found' } });
  }

  private async serveImage(path: string, res: ServerResponse) {
    const name = /^\/assets\/([\w-]+)\.png(?:\?.*)?$/.exec(path)?.[1];
    if (!name) return sendJson(res, 404, {});
    const info = this.images.get(name);
    await sendPng(res, name, info?.grid === false ? 64 : 128, info?.grid === false ? 64 : 128);
  }

  private serveClip(path: string, res: ServerResponse) {
    const m = /^\/videos\/(\w+)-([1-4])\.mp4$/.exec(path);
    return sendClip(res, m ? this.videos.get(m[1]!) : undefined, Number(m?.[2]));
  }

  /** `{prompt}` → `{prompts: [5 shorter prompts]}`, at once. */
  private shorten(req: RecordedRequest, res: ServerResponse) {
    const prompt = ((typeof req.body === 'object' && req.body) || {} as Record<string, unknown>) as Record<string, unknown>;
    if (typeof prompt.prompt !== 'string' || !prompt.prompt.trim()) return this.badRequest(res, '`prompt` is required');
    sendJson(res, 200, { prompts: ACE_SHORTENED });
  }

  /** `{image_id}` of a finished image → `{seed}`, at once. */
  private seed(req: RecordedRequest, res: ServerResponse) {
    const id = (((typeof req.body === 'object' && req.body) || {}) as Record<string, unknown>).image_id;
    if (typeof id !== 'string' || !id) return this.badRequest(res, '`image_id` is required');
    this.seedRequests.push(id);
    // Previews (stream lines) are listed with no actions; finished images with theirs.
    if (!this.images.get(id)?.actions.length) return this.badRequest(res, '`image_id` is invalid');
    sendJson(res, 200, { seed: aceSeedOf(id) });
  }

  /** `{action: generate, image_url, prompt}` → a grid, like imagine's (the openapi's example lists its actions). */
  private edits(req: RecordedRequest, res: ServerResponse) {
    const body = (typeof req.body === 'object' && req.body) || {};
    const { action = 'generate', image_url: imageUrl, prompt } = body as Record<string, unknown>;
    if (action !== 'generate') return this.badRequest(res, '`action` must be generate');
    if (typeof imageUrl !== 'string' || !/^https?:\/\//.test(imageUrl)) return this.badRequest(res, '`image_url` must be an http(s) URL');
    if (typeof prompt !== 'string' || !prompt.trim()) return this.badRequest(res, '`prompt` is required');
    this.begin(req, res, { action: 'edit', prompt });
  }

  /** generate: `image_url` (http) and `prompt`; extend: a finished `video_id` and `video_index` 0–3. */
  private videosEndpoint(req: RecordedRequest, res: ServerResponse) {
    const body = req.body;
    if (typeof body !== 'object' || body === null) return this.badRequest(res, 'body must be a JSON object');
    const { action = 'generate', prompt, image_url: imageUrl, end_image_url: endImageUrl, loop, video_id: videoId, video_index: index = 0, mode = 'fast', resolution = '720p' } = body as Record<string, unknown>;
    if (endImageUrl !== undefined && (typeof endImageUrl !== 'string' || !/^https?:\/\//.test(endImageUrl))) return this.badRequest(res, '`end_image_url` must be an http(s) URL');
    if (loop !== undefined && typeof loop !== 'boolean') return this.badRequest(res, '`loop` must be a boolean');
    if (mode !== 'fast' && mode !== 'turbo') return this.badRequest(res, '`mode` must be fast or turbo');
    if (resolution !== '480p' && resolution !== '720p') return this.badRequest(res, '`resolution` must be 480p or 720p');
    if (typeof prompt !== 'string' || !prompt.trim()) return this.badRequest(res, '`prompt` is required');
    let video: Video;
    if (action === 'generate') {
      if (typeof imageUrl !== 'string' || !/^https?:\/\//.test(imageUrl)) return this.badRequest(res, '`image_url` must be an http(s) URL');
      video = { seconds: CLIP_SECONDS, patterns: [1, 2, 3, 4] };
    } else if (action === 'extend') {
      const parent = typeof videoId === 'string' ? this.videos.get(videoId) : undefined;
      if (!parent) return this.badRequest(res, '`video_id` is invalid');
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= parent.patterns.length) return this.badRequest(res, '`video_index` must be 0-3');
      const from = parent.patterns[index]!;
      video = { seconds: parent.seconds + EXTEND_SECONDS, patterns: [from, from, from, from] };
    } else {
      return this.badRequest(res, '`action` must be generate or extend');
    }
    this.begin(req, res, { action: String(action), prompt, video });
  }

  private badRequest(res: ServerResponse, message: string) {
    sendJson(res, 400, { success: false, error: { code: 'bad_request', message }, trace_id: `trace-${++this.seq}` });
  }

  /** `{image_url}` → `{descriptions: [4 prompts]}`, at once. */
  private describe(req: RecordedRequest, res: ServerResponse) {
    const body = (typeof req.body === 'object' && req.body) || {};
    const url = (body as Record<string, unknown>).image_url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) return this.badRequest(res, '`image_url` must be an http(s) URL');
    sendJson(res, 200, { success: true, task_id: crypto.randomUUID(), descriptions: ACE_DESCRIPTIONS });
  }

  private imagine(req: RecordedRequest, res: ServerResponse) {
    const body = req.body;
    if (typeof body !== 'object' || body === null) return this.badRequest(res, 'body must be a JSON object');
    const { prompt, action = 'generate', image_id: imageId } = body as Record<string, unknown>;
    if (action === 'generate') {
      if (typeof prompt !== 'string' || !prompt.trim()) return this.badRequest(res, '`prompt` is required');
    } else {
      const parent = typeof imageId === 'string' ? this.images.get(imageId) : undefined;
      if (!parent) return this.badRequest(res, '`image_id` is invalid');
      if (typeof action !== 'string' || !parent.actions.includes(action)) return this.badRequest(res, `action \`${String(action)}\` is not available for this image`);
      if (action === 'variation_region') {
        const { mask } = body as Record<string, unknown>;
        const png = typeof mask === 'string' ? Buffer.from(mask, 'base64') : Buffer.alloc(0);
        if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) return this.badRequest(res, '`mask` must be a base64 PNG');
        if (typeof prompt !== 'string') return this.badRequest(res, '`prompt` is required');
        this.regions.push({ imageId: imageId as string, prompt, mask: png });
      }
    }
    this.begin(req, res, { action: String(action), prompt: typeof prompt === 'string' ? prompt : '', imageId: typeof imageId === 'string' ? imageId : undefined });
  }

  /** Creates the job, then answers as the request asks: `{task_id}` with a callback, a stream, or the blocking result. */
  private begin(req: RecordedRequest, res: ServerResponse, fields: Pick<Job, 'action' | 'prompt' | 'imageId' | 'video'>) {
    const callbackUrl = (req.body as Record<string, unknown>).callback_url;
    const job: Job = {
      ...fields,
      taskId: crypto.randomUUID(),
      createdAt: Date.now(),
      failReason: this.failNext.shift(),
      extraMs: this.slowNext.shift() ?? 0,
    };
    this.jobs.set(job.taskId, job);
    const doneInMs = this.durationMs(job);
    if (typeof callbackUrl === 'string' && callbackUrl) {
      setTimeout(() => {
        const result = this.finish(job);
        void pushJson(callbackUrl, result).then((status) => this.callbacks.push({ url: callbackUrl, status, body: result }));
      }, doneInMs);
      return sendJson(res, 200, { task_id: job.taskId });
    }
    if (String(req.headers.accept).includes('application/x-ndjson')) return this.stream(job, res);
    setTimeout(() => sendJson(res, 200, this.finish(job)), doneInMs);
  }

  /** One line per progress step with a preview, then the final result (or the error), as in the seed. */
  private stream(job: Job, res: ServerResponse) {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    this.openStreams.add(res);
    res.on('close', () => this.openStreams.delete(res));
    const write = (text: string, end = false) => {
      if (res.destroyed) return;
      if (end) res.end(text);
      else res.write(text);
    };
    const extra = this.opts.streamTaskIds ? { task_id: job.taskId } : {};
    PROGRESS.forEach((progress, step) => {
      setTimeout(() => {
        if (job.video) return write(`${JSON.stringify({ ...extra, progress })}\r\n`);
        const preview = `${job.taskId}-p${progress}`;
        this.images.set(preview, { grid: true, actions: [] });
        write(`${JSON.stringify({ ...extra, image_id: preview, image_url: `${this.url}/assets/${preview}.png`, actions: [], progress })}\r\n`);
      }, step * this.stepMs);
    });
    setTimeout(() => {
      const { task_id: _omitted, ...line } = this.finish(job);
      write(`${JSON.stringify(this.opts.streamTaskIds || line.success === false ? { ...line, task_id: job.taskId } : line)}\r\n`, true);
    }, this.durationMs(job));
  }

  /** The job's final result (computed once), shaped like the seed's examples. */
  private finish(job: Job): Record<string, unknown> {
    if (job.result) return job.result;
    if (job.failReason) {
      job.result = { success: false, task_id: job.taskId, error: { code: 'bad_request', message: job.failReason } };
      return job.result;
    }
    if (job.video) {
      const videoId = `${Date.now()}${++this.seq}`;
      this.videos.set(videoId, job.video);
      job.result = {
        image_url: `${this.url}/assets/cover${videoId}.png`,
        image_width: 560,
        image_height: 688,
        progress: 100,
        video_id: videoId,
        video_urls: job.video.patterns.map((_, i) => `${this.url}/videos/${videoId}-${i + 1}.mp4`),
        task_id: job.taskId,
        success: true,
      };
      return job.result;
    }
    const imageId = `img${Date.now()}${++this.seq}`;
    const grid = !job.action.startsWith('upscale');
    const actions = grid ? ACE_GRID_ACTIONS : /^upscale[1-4]$/.test(job.action) ? ACE_SINGLE_ACTIONS : ACE_SINGLE_ACTIONS.filter((a) => !a.startsWith('upscale'));
    this.images.set(imageId, { grid, actions });
    const size = grid ? 1024 : 512;
    const url = `${this.url}/assets/${imageId}.png`;
    job.result = {
      image_url: `${url}?ex=662fdb36&width=${size}&height=${size}`,
      image_width: size,
      image_height: size,
      image_id: imageId,
      raw_image_url: `${url}?ex=662fdb36&`,
      raw_image_width: size * 2,
      raw_image_height: size * 2,
      progress: 100,
      actions,
      task_id: job.taskId,
      success: true,
    };
    return job.result;
  }

  private durationMs(job: Job): number {
    return PROGRESS.length * this.stepMs + job.extraMs;
  }

  private finished(job: Job): boolean {
    return Date.now() - job.createdAt >= this.durationMs(job);
  }

  private task(job: Job): Record<string, unknown> {
    return {
      id: job.taskId,
      type: job.video ? 'videos' : 'imagine',
      created_at: job.createdAt / 1000,
      request: { action: job.action, prompt: job.prompt, image_id: job.imageId },
      ...(this.finished(job) && { response: this.finish(job), finished_at: Date.now() / 1000 }),
    };
  }

  private tasks(req: RecordedRequest, res: ServerResponse) {
    const body = (req.body ?? {}) as { action?: string; id?: string; ids?: string[] };
    if (body.action === 'retrieve') {
      const job = body.id ? this.jobs.get(body.id) : undefined;
      if (!job) return sendJson(res, 404, { success: false, error: { code: 'not_found', message: 'task not found' } });
      return sendJson(res, 200, this.task(job));
    }
    if (body.action === 'retrieve_batch' && Array.isArray(body.ids)) {
      const items = body.ids.map((id) => this.jobs.get(id)).filter((j): j is Job => j !== undefined).map((j) => this.task(j));
      return sendJson(res, 200, { items, count: items.length });
    }
    this.badRequest(res, '`action` must be retrieve or retrieve_batch');
  }
}
