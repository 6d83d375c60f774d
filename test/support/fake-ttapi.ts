// A fake TTApi Midjourney API on 127.0.0.1, built from the seed (ttapi-midjourney.zh.txt) and the provider
// reference: `TT-API-KEY` auth, `POST /midjourney/v1/imagine|action` → `{status, message, data:{jobId}}`,
// `GET /midjourney/v1/fetch?jobId=` → `{status: PENDING_QUEUE|ON_QUEUE|SUCCESS|FAILED, message, jobId, data}`,
// `hookUrl` notified with the fetch-shaped body and retried until it answers 200 (three attempts at most).
// `discordImage` points at a host that does not exist (those links expire upstream); `cdnImage` is served here.
// Failure injection: `server.inject(...)` (5xx streak, 401, 402 no balance, 429, 499 queue exhausted,
// malformed JSON) and `failNextJob(reason)`. For queue tests it keeps every accepted submission in order and
// how many of its jobs were running at once (`inFlight`, `maxInFlight`): a job runs from its submission until
// the relay finishes it, whether or not the bot has looked yet.
import type { ServerResponse } from 'node:http';
import { JobRelayFake, pushJson, sendJson, sendPng, type FakeRelayOptions, type RecordedRequest } from './relay-fake-kit.ts';
import { makeClip } from './fake-clips.ts';

/** The size of every image this fake serves (`cdnImage`, the grid's `images`). */
const IMAGE_SIZE = 96;

export const TT_GRID_COMPONENTS = ['upsample1', 'upsample2', 'upsample3', 'upsample4', 'reroll', 'variation1', 'variation2', 'variation3', 'variation4'];
export const TT_SINGLE_COMPONENTS = [
  'high_variation', 'low_variation', 'zoom_out_2', 'zoom_out_1_5', 'pan_left', 'pan_right', 'pan_up', 'pan_down', 'upscale2', 'upscale4',
];

/** What every fake /describe suggests. */
export const TT_DESCRIPTIONS = [
  'a paper boat on a puddle, rainy street, reflections --ar 16:9',
  'origami boat floating in rain water, macro photo --ar 16:9',
  'a small white boat on wet asphalt, moody light --ar 16:9',
  'paper ship in a city puddle, cinematic, shallow focus --ar 16:9',
];

// ---- Vary (Region) ----
// Source: docs.ttapi.io/api/cn/midjourney/inpaint (Dec 2026): `POST /midjourney/v1/inpaint {jobId (the previous
// request's jobId), mask (base64 of a black-and-white mask of the original image's size, white = the part to
// repaint, WITHOUT the "data:image/png;base64," prefix), prompt, timeout (300–1200), hookUrl}` → `{status:
// "SUCCESS", message, data:{job_id}}`. Which jobs it takes is not said beyond "the jobId the previous request
// returned"; Midjourney's Vary (Region) is on upscales, so this fake takes upscales (`upsample1..4`) only. The
// result's fetch shape is not shown: this fake answers a grid (`action: "inpaint"`), as Midjourney makes one.
/** A Vary (Region) request the fake accepted: the upscale's job id, the prompt, the decoded mask PNG. */
export interface TtInpaint {
  jobId: string;
  prompt: string;
  mask: Buffer;
}

/** Width and height from a PNG's IHDR chunk, or undefined when the bytes are no PNG. */
function pngSize(data: Buffer): { width: number; height: number } | undefined {
  const magic = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (data.length < 24 || !data.subarray(0, 8).equals(magic) || data.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

// ---- 📋 Seed ----
// Source: docs.mjapiapp.com/reference/midjourney-api, "Seeds [ --seed ]": `POST /midjourney/v1/seed {jobId*,
// hookUrl, timeout}` ("Get the seeds from midjourney image") → `{status, message, data:{jobId}}`; /v1/fetch lists
// `data.seed` on every job (the seed page's example: `"seed": null` until asked). Not shown anywhere: the seed
// job's own fetch body. This fake makes a job `action: "seed"` whose finished fetch carries `data.seed` (and no
// image). `seedOnJobs: true` instead fills `data.seed` on every finished job, as a relay that always knows it would.
/** The seed the fake tells for a job: a number derived from its id (stable, so a test can predict it). */
export function ttSeedOf(jobId: string): string {
  return String(Number.parseInt(jobId.replace(/-/g, '').slice(0, 8), 16) % 4_294_967_295);
}

// ---- Video (Midjourney Animate / Extend), `new FakeTtApi({ video: true })` ----
// Sources: docs.ttapi.io/api/en/videoapi/submit and /videoapi/extend (2026-03/04), docs-zh.mjapiapp.com/api/
// midjourney-video-api (the older Chinese page), ttapi.io/docs/apiReference/midjourney_video, and
// /work/shared/reference/providers.md (December 2026). Confirmed there: `POST /midjourney/video/submit {prompt*,
// imageUrl*, endingUrl?, mode|model: fast only, manual: low|high (default low), resolution: sd|hd, bs: 1|2|4
// (default 4), hookUrl?}`; `POST /midjourney/video/extend {jobId*, index* 0–3, manual, animateMode: auto|manual,
// bs, hookUrl?}` (the parent must be finished); both answer `{status, message, data:{job_id}}` on the newer pages
// (`data.jobId` on the older: this fake answers `job_id`), and the hook body is the fetch body.
// NOT confirmed by any page found: where a finished video job lists its clips in /v1/fetch, its `data.action`,
// and the component names of an upscale's Animate buttons. This fake uses `data.videoUrls: [mp4 URLs]`,
// `action: "video"|"extend"`, and Midjourney's own `animate_low`/`animate_high` components on upscales.
/** Seconds of a fake clip, and what an Extend adds (short: the tests only need "longer"). */
const CLIP_SECONDS = 2;
const EXTEND_SECONDS = 1;
/** The picture size of a clip at each `resolution` (the docs say only that hd costs more quota). */
export const TT_CLIP_SIZE = { sd: { width: 320, height: 240 }, hd: { width: 640, height: 480 } } as const;
/** ffmpeg's moving test pattern, tinted per clip of a batch so the clips differ. */
const pattern = (clip: number, video: Video) => {
  const { width, height } = TT_CLIP_SIZE[video.resolution];
  return `testsrc2=size=${width}x${height}:rate=10:duration=${video.seconds},hue=h=${(clip - 1) * 90}`;
};

/** A video job's clips: how long, and which test pattern each shows (an Extend keeps its clip's). */
interface Video {
  seconds: number;
  /** `resolution` of the submit (an Extend keeps its clip's: the extend page lists no resolution). */
  resolution: 'sd' | 'hd';
  patterns: number[];
}

interface Job {
  jobId: string;
  video?: Video;
  action: string;
  prompt: string;
  createdAt: number;
  hookUrl?: string;
  failReason?: string;
  components: string[];
  /** Extra time spent at the last progress step. */
  extraMs: number;
  /** A seed job: the job whose seed it tells. */
  seedOf?: string;
}

/** `stepMs`: time per progress step; a job is queued for one step, then runs for three. */
export interface FakeTtApiOptions extends FakeRelayOptions {
  /** Video on: upscales list the Animate components, and /midjourney/video/* answer. */
  video?: boolean;
  /** Every finished job's fetch already carries its `data.seed` (no /v1/seed call needed). */
  seedOnJobs?: boolean;
}

const PROGRESS = [0, 25, 50, 75];

/** A job the relay accepted, in the order accepted. */
export interface TtSubmission {
  jobId: string;
  action: string;
  prompt: string;
  at: number;
  /** When the relay finishes it (the bot may see that later). */
  finishesAt: number;
}

export class FakeTtApi extends JobRelayFake {
  readonly jobs = new Map<string, Job>();
  /** Every accepted job (imagine, action, describe, inpaint, seed, video), in order. */
  readonly submissions: TtSubmission[] = [];
  /** The most jobs ever running at once (counted at each submission, when the number can only have grown). */
  maxInFlight = 0;
  /** The job id of every /midjourney/v1/seed call, in order. */
  readonly seedRequests: string[] = [];
  /** Every accepted /midjourney/v1/inpaint. */
  readonly inpaints: TtInpaint[] = [];
  /** Every hook delivery attempt with the status our bot answered. */
  readonly hooks: Array<{ url: string; status: number; body: Record<string, unknown> }> = [];
  private seq = 0;
  private readonly video: boolean;
  private readonly seedOnJobs: boolean;

  private constructor(opts: FakeTtApiOptions) {
    super(opts, 'tt-test-key');
    this.video = opts.video ?? false;
    this.seedOnJobs = opts.seedOnJobs ?? false;
  }

  /** `failNextJob(reason)`: the job ends as FAILED with this message. */
  static start(opts: FakeTtApiOptions = {}): Promise<FakeTtApi> {
    return new FakeTtApi(opts).listening();
  }

  /** Jobs accepted and not yet finished, now. */
  get inFlight(): number {
    return [...this.jobs.values()].filter((j) => !this.done(j)).length;
  }

  protected async route(req: RecordedRequest, res: ServerResponse) {
    const url = new URL(req.path, this.url);
    if (req.method === 'GET' && url.pathname.startsWith('/assets/')) {
      const name = /^\/assets\/([\w-]+)\.png$/.exec(url.pathname)?.[1];
      if (!name) return sendJson(res, 404, {});
      return sendPng(res, name, IMAGE_SIZE, IMAGE_SIZE);
    }
    const clip = /^\/videos\/([\w-]+)-([1-4])\.mp4$/.exec(url.pathname);
    if (req.method === 'GET' && clip) {
      const video = this.jobs.get(clip[1]!)?.video;
      const n = Number(clip[2]);
      if (!video || n > video.patterns.length) return sendJson(res, 404, {});
      const data = await makeClip(pattern(video.patterns[n - 1]!, video));
      // CDNs often serve clips as octet-stream: the bot must check the bytes, not the header.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length }).end(data);
      return;
    }
    if (req.headers['tt-api-key'] !== this.apiKey) return sendJson(res, 401, { status: 'FAILED', message: 'Invalid TT-API-KEY', data: null });
    if (req.method === 'POST' && url.pathname === '/midjourney/v1/imagine') return this.imagine(req, res);
    if (req.method === 'POST' && url.pathname === '/midjourney/v1/action') return this.action(req, res);
    if (req.method === 'POST' && url.pathname === '/midjourney/v1/describe') return this.describe(req, res);
    if (req.method === 'POST' && url.pathname === '/midjourney/v1/inpaint') return this.inpaint(req, res);
    if (req.method === 'POST' && url.pathname === '/midjourney/v1/seed') return this.seed(req, res);
    if (this.video && req.method === 'POST' && url.pathname === '/midjourney/video/submit') return this.videoSubmit(req, res);
    if (this.video && req.method === 'POST' && url.pathname === '/midjourney/video/extend') return this.videoExtend(req, res);
    if (req.method === 'GET' && url.pathname === '/midjourney/v1/fetch') {
      const job = this.jobs.get(url.searchParams.get('jobId') ?? '');
      if (!job) return sendJson(res, 200, { status: 'FAILED', message: 'job not found', data: null });
      return sendJson(res, 200, this.view(job));
    }
    sendJson(res, 404, { status: 'FAILED', message: 'Not Found', data: null });
  }

  private failed(res: ServerResponse, message: string) {
    sendJson(res, 400, { status: 'FAILED', message, data: null });
  }

  private imagine(req: RecordedRequest, res: ServerResponse) {
    const body = (typeof req.body === 'object' && req.body) || {};
    const { prompt, mode = 'fast', hookUrl } = body as Record<string, unknown>;
    if (typeof prompt !== 'string' || !prompt.trim()) return this.failed(res, 'prompt is required');
    if (!['fast', 'relax', 'turbo'].includes(String(mode))) return this.failed(res, 'mode must be fast, relax or turbo');
    this.create(res, 'imagine', prompt, hookUrl);
  }

  /** `{url | base64}`: a job whose result `prompt` is the four suggestions, numbered 1️⃣–4️⃣. */
  private describe(req: RecordedRequest, res: ServerResponse) {
    const body = (typeof req.body === 'object' && req.body) || {};
    const { url, base64, hookUrl } = body as Record<string, unknown>;
    if (!(typeof url === 'string' && /^https?:\/\//.test(url)) && !(typeof base64 === 'string' && base64)) return this.failed(res, 'url or base64 is required');
    this.create(res, 'describe', TT_DESCRIPTIONS.map((d, i) => `${i + 1}️⃣ ${d}`).join('\n\n'), hookUrl);
  }

  private action(req: RecordedRequest, res: ServerResponse) {
    const body = (typeof req.body === 'object' && req.body) || {};
    const { jobId, action, hookUrl } = body as Record<string, unknown>;
    const parent = this.jobs.get(String(jobId));
    if (!parent || !this.done(parent) || parent.failReason) return this.failed(res, 'jobId is invalid');
    if (typeof action !== 'string' || !parent.components.includes(action)) return this.failed(res, `action ${String(action)} is not available for this job`);
    this.create(res, action, parent.prompt, hookUrl);
  }

  private inpaint(req: RecordedRequest, res: ServerResponse) {
    const body = ((typeof req.body === 'object' && req.body) || {}) as Record<string, unknown>;
    const { jobId, mask, prompt, hookUrl } = body;
    const parent = this.jobs.get(String(jobId));
    if (!parent || !this.done(parent) || parent.failReason) return this.failed(res, 'jobId is invalid');
    if (!/^upsample[1-4]$/.test(parent.action)) return this.failed(res, 'Vary (Region) needs an upscaled image');
    if (typeof mask !== 'string' || !mask) return this.failed(res, 'mask is required');
    if (mask.startsWith('data:')) return this.failed(res, 'mask must be base64 without the data:image/png;base64, prefix');
    if (typeof prompt !== 'string' || !prompt.trim()) return this.failed(res, 'prompt is required');
    const png = Buffer.from(mask, 'base64');
    const size = pngSize(png);
    if (!size) return this.failed(res, 'mask is not a PNG image');
    if (size.width !== IMAGE_SIZE || size.height !== IMAGE_SIZE) return this.failed(res, `mask must have the image's size (${IMAGE_SIZE}x${IMAGE_SIZE}), got ${size.width}x${size.height}`);
    this.inpaints.push({ jobId: parent.jobId, prompt, mask: png });
    this.create(res, 'inpaint', prompt, hookUrl);
  }

  private seed(req: RecordedRequest, res: ServerResponse) {
    const { jobId, hookUrl } = ((typeof req.body === 'object' && req.body) || {}) as Record<string, unknown>;
    const parent = this.jobs.get(String(jobId));
    this.seedRequests.push(String(jobId));
    if (!parent || !this.done(parent) || parent.failReason || parent.seedOf) return this.failed(res, 'jobId is invalid');
    if (parent.video || parent.action === 'describe') return this.failed(res, 'this job has no image to take a seed from');
    this.create(res, 'seed', parent.prompt, hookUrl, undefined, parent.jobId);
  }

  /** Shared checks of both video endpoints: `manual` low|high, `bs` 1|2|4. */
  private videoParams(body: Record<string, unknown>): { bs: number } | string {
    const { manual = 'low', bs = 4 } = body;
    if (!['low', 'high'].includes(String(manual))) return 'manual must be low or high';
    if (![1, 2, 4].includes(Number(bs))) return 'bs must be 1, 2 or 4';
    return { bs: Number(bs) };
  }

  private videoSubmit(req: RecordedRequest, res: ServerResponse) {
    const body = ((typeof req.body === 'object' && req.body) || {}) as Record<string, unknown>;
    const { prompt, imageUrl, mode = 'fast', resolution = 'sd', hookUrl } = body;
    if (typeof prompt !== 'string' || !prompt.trim()) return this.failed(res, 'prompt is required');
    if (typeof imageUrl !== 'string' || !/^https?:\/\//.test(imageUrl)) return this.failed(res, 'imageUrl must be a reachable image URL');
    if (body.endingUrl !== undefined && (typeof body.endingUrl !== 'string' || !/^https?:\/\//.test(body.endingUrl))) return this.failed(res, 'endingUrl must be a reachable image URL');
    if (mode !== 'fast') return this.failed(res, 'video supports fast mode only');
    if (resolution !== 'sd' && resolution !== 'hd') return this.failed(res, 'resolution must be sd or hd');
    const params = this.videoParams(body);
    if (typeof params === 'string') return this.failed(res, params);
    const patterns = Array.from({ length: params.bs }, (_, i) => i + 1);
    this.create(res, 'video', prompt, hookUrl, { seconds: CLIP_SECONDS, resolution, patterns });
  }

  private videoExtend(req: RecordedRequest, res: ServerResponse) {
    const body = ((typeof req.body === 'object' && req.body) || {}) as Record<string, unknown>;
    const { jobId, index, hookUrl } = body;
    const parent = this.jobs.get(String(jobId));
    if (!parent?.video || !this.done(parent) || parent.failReason) return this.failed(res, 'jobId is invalid or not finished');
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= parent.video.patterns.length) return this.failed(res, 'index must be 0-3 within the job');
    const params = this.videoParams(body);
    if (typeof params === 'string') return this.failed(res, params);
    const from = parent.video.patterns[index as number]!;
    this.create(res, 'extend', parent.prompt, hookUrl, { seconds: parent.video.seconds + EXTEND_SECONDS, resolution: parent.video.resolution, patterns: Array.from({ length: params.bs }, () => from) });
  }

  private create(res: ServerResponse, action: string, prompt: string, hookUrl: unknown, video?: Video, seedOf?: string) {
    const job: Job = {
      video,
      seedOf,
      jobId: crypto.randomUUID(),
      action,
      prompt,
      createdAt: Date.now(),
      hookUrl: typeof hookUrl === 'string' && hookUrl ? hookUrl : undefined,
      failReason: this.failNext.shift(),
      extraMs: this.slowNext.shift() ?? 0,
      components: action === 'describe' || video || seedOf
        ? []
        : /^upsample[1-4]$/.test(action)
          ? [...TT_SINGLE_COMPONENTS, ...(this.video ? ['animate_low', 'animate_high'] : [])]
          : /^upscale[24]$/.test(action)
            ? TT_SINGLE_COMPONENTS.filter((c) => !/^upscale/.test(c))
            : TT_GRID_COMPONENTS,
    };
    this.jobs.set(job.jobId, job);
    this.submissions.push({ jobId: job.jobId, action, prompt, at: job.createdAt, finishesAt: job.createdAt + this.durationMs(job) });
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (job.hookUrl) setTimeout(() => void this.notify(job, job.hookUrl!), this.durationMs(job));
    // The newer pages show the video and inpaint endpoints answering `job_id`.
    sendJson(res, 200, { status: 'SUCCESS', message: 'success', data: video || action === 'inpaint' ? { job_id: job.jobId } : { jobId: job.jobId } });
  }

  /** Anything but HTTP 200 is retried, three attempts in all. */
  private async notify(job: Job, url: string) {
    // A timer may fire a millisecond before Date.now() says the job is done: the hook must carry the final state.
    const early = job.createdAt + this.durationMs(job) - Date.now();
    if (early > 0) await new Promise((r) => setTimeout(r, early + 1));
    for (let attempt = 0; attempt < 3; attempt++) {
      const body = this.view(job);
      const status = await pushJson(url, body);
      this.hooks.push({ url, status, body });
      if (status === 200) return;
      await new Promise((r) => setTimeout(r, this.stepMs));
    }
  }

  private durationMs(job: Job): number {
    return (PROGRESS.length + 1) * this.stepMs + job.extraMs;
  }

  private done(job: Job): boolean {
    return Date.now() - job.createdAt >= this.durationMs(job);
  }

  private view(job: Job): Record<string, unknown> {
    const step = Math.floor((Date.now() - job.createdAt) / this.stepMs);
    const status = step === 0 ? 'PENDING_QUEUE' : !this.done(job) ? 'ON_QUEUE' : job.failReason ? 'FAILED' : 'SUCCESS';
    const name = `${job.jobId}-final`;
    const single = /^(upsample|upscale)/.test(job.action) || job.action === 'describe';
    const ok = status === 'SUCCESS';
    const head = { status, message: status === 'FAILED' ? job.failReason : 'success', jobId: job.jobId };
    const common = { action: job.action, jobId: job.jobId, progress: String(ok ? 100 : PROGRESS[Math.min(step, PROGRESS.length - 1)]), prompt: job.prompt };
    if (job.seedOf) return { ...head, data: { ...common, seed: ok ? ttSeedOf(job.seedOf) : null, components: [] } };
    if (job.video) {
      const videoUrls = ok ? job.video.patterns.map((_, i) => `${this.url}/videos/${job.jobId}-${i + 1}.mp4`) : null;
      return { ...head, data: { ...common, videoUrls, components: [] } };
    }
    return {
      ...head,
      data: {
        ...common,
        discordImage: ok ? `https://cdn.discordapp.invalid/attachments/${++this.seq}/${name}.png` : null,
        cdnImage: ok ? `${this.url}/assets/${name}.png` : null,
        width: single ? 1024 : 2048,
        height: single ? 1024 : 2048,
        components: ok ? job.components : [],
        images: ok && !single ? [1, 2, 3, 4].map((i) => `${this.url}/assets/${job.jobId}-u${i}.png`) : null,
        seed: ok && this.seedOnJobs ? ttSeedOf(job.jobId) : null,
      },
    };
  }
}
