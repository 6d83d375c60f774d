// LegNext (`UPSTREAM_PROVIDER=legnext`, docs.legnext.ai): `x-api-key` header, one endpoint per Midjourney
// operation under `/api/v1` (diffusion, variation, upscale, reroll, pan, outpaint, blend, describe), each answering
// the job object `{job_id, task_type, status, output, error, …}`; `GET /api/v1/job/{job_id}` reads it again, and
// `callback` receives it when the job ends. A finished grid carries its four images (`output.image_urls`) and,
// per image, what may follow (`output.available_actions`: `{upscale:[0..3], variation:[…], outpaint, pan, reroll}`).
// Actions name their image by the grid job and `imageNo` 0–3, so U1–U4 need no call: the picked image is served
// from the grid's own URLs (as for ImagineAPI), and its buttons act on (grid job, imageNo).
// Sources: https://docs.legnext.ai/llms-full.txt, https://docs.legnext.ai/api-reference/image-generation/diffusion,
// …/variation, …/upscale, …/pan, …/outpaint, …/blend, …/describe, https://docs.legnext.ai/get-task,
// https://docs.legnext.ai/getting-started/quickstart (error codes), github.com/legnext-ai/sdks openapi/.
// Video (github.com/legnext-ai/sdks openapi/openapi.yaml and openapi-complete.yaml, "Video" tag): `POST
// /video-diffusion {jobId, imageNo 0–3, prompt?, videoType 0 480p|1 720p}` animates one image of a finished job
// (or, with only `prompt`, an image URL at its start: /animate), `POST /extend-video {jobId, videoNo 0–3, prompt?}`
// continues one clip of a video job (4 s more); both answer the job object. The docs show no video job's output
// and name no motion field: the clips are read from `output.video_urls`/`videos`/`video_url`, else (a job whose
// task_type says video, or whose links are .mp4) from `image_urls`/`image_url`; Low/High motion go as Midjourney's
// own `--motion low|high` at the end of the prompt (both unconfirmed). U1–U4 of a batch need no call.
// Vary (Region) (openapi.yaml /api/v1/inpaint): `{jobId, imageNo, mask: {areas: [{width, height, points: [x1,y1,
// …,x4,y4]}]} | {url}, remixPrompt?}` on an image whose `available_actions.inpaint` lists it; the mask goes as
// polygons (rectangles covering the white part of the editor's mask: the bot has no public URL for a mask image).
// 📋: the job object's `output.seed` (get-task; the SDK test results show it on a finished diffusion job).
import sharp from '../sharp.ts';
import { DownloadError, httpDownload, isMp4 } from './download.ts';
import { ANIMATE_ACTIONS, EXTEND_ACTIONS, VIDEO_PICKS, actionIndex, isVideoAction, videoMotion, videoPickIndex, type InternalAction } from './actions.ts';
import { UpstreamHttp, type RelayConnection } from './http.ts';
import { dataUris, parseDescriptions } from './midjourney-proxy.ts';
import { fetchEach, isRecord, percentOf, str, urlsOf, withModeParam, withMotion } from './parse.ts';
import {
  UpstreamAccountError,
  UpstreamRejected,
  type AnimateRequest,
  type BlendDimensions,
  type Capabilities,
  type DownloadedImage,
  type InpaintRequest,
  type ParentRef,
  type Provider,
  type SubmitRequest,
  type Submitted,
  type UpstreamJob,
} from './provider.ts';

const API = '/api/v1';

/** `output.available_actions`: the image numbers (0–3) each operation accepts, and whether 🔄 may follow. */
export interface LegnextAvailableActions {
  upscale?: number[];
  variation?: number[];
  outpaint?: number[];
  pan?: number[];
  inpaint?: number[];
  reroll?: boolean;
  [other: string]: unknown;
}

/** The job object every endpoint answers with, `GET /job/{id}` returns and the callback receives. */
export interface LegnextJob {
  job_id: string;
  task_type?: string;
  status?: string;
  output?: {
    image_url?: string | null;
    image_urls?: string[] | null;
    /** A video job's clips: not documented, read defensively (see the header). */
    video_urls?: unknown;
    videos?: unknown;
    video_url?: string | null;
    seed?: string | number;
    available_actions?: LegnextAvailableActions | null;
    /** describe: the four prompts, numbered 1️⃣–4️⃣ in one text, or as a list. */
    promptEn?: string;
    description?: string;
    finalPrompt?: string;
    prompts?: unknown[] | null;
  } | null;
  error?: { code?: number; message?: string; raw_message?: string } | null;
}

/** What may follow one image, kept as letters (in the picked image's id and the grid's stored data). */
const OFFER_LETTERS = { variation: 'v', upscale: 'u', outpaint: 'o', pan: 'p', inpaint: 'i' } as const;
const OFFER_ACTIONS: Record<string, InternalAction[]> = {
  v: ['vary:strong', 'vary:subtle'],
  u: ['upscale:subtle', 'upscale:creative'],
  o: ['zoom:2', 'zoom:1.5'],
  p: ['pan:left', 'pan:right', 'pan:up', 'pan:down'],
  // Vary (Region) is no InternalAction (it needs the editor's mask): `inpaintable` reads the letter.
  i: [],
};

const GRID: InternalAction[] = ['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll', 'variation:1', 'variation:2', 'variation:3', 'variation:4'];
const SINGLE: InternalAction[] = Object.values(OFFER_ACTIONS).flat();
/** A single image (a pick or an upscale) can always be animated: /video-diffusion takes any image of a finished job. */
const ANIMATE: InternalAction[] = [...ANIMATE_ACTIONS];
const VIDEO: InternalAction[] = [...ANIMATE_ACTIONS, ...VIDEO_PICKS, ...EXTEND_ACTIONS];
/** Animate's `videoType`: 0 is 480p (faster and cheaper; 1 is 720p). */
const VIDEO_TYPE = 0;

/** Pan directions as LegNext numbers them. */
const DIRECTION: Record<string, number> = { 'pan:down': 0, 'pan:right': 1, 'pan:up': 2, 'pan:left': 3 };
/** How far a pan extends the image (LegNext takes 1.1–3.0; Midjourney's own pan adds half). */
const PAN_SCALE = 1.5;
const BLEND_DIMENSION: Record<BlendDimensions, string> = { portrait: 'PORTRAIT', square: 'SQUARE', landscape: 'LANDSCAPE' };

/**
 * A picked grid image (U1–U4) has no LegNext job of its own: its id names the grid job, the image number, what
 * may follow it and its URL, so `fetch` answers from the id alone (users never see it; buttons carry our task id).
 */
const SINGLE_ID = /^picked:([^:]+):([0-3]):([a-z]*):([A-Za-z0-9_-]+)$/;
const pickedId = (jobId: string, imageNo: number, offers: string, url: string) =>
  `picked:${jobId}:${imageNo}:${offers}:${Buffer.from(url).toString('base64url')}`;
function parsePicked(id: string): { jobId: string; imageNo: number; offers: string; url: string } | undefined {
  const m = SINGLE_ID.exec(id);
  return m ? { jobId: m[1]!, imageNo: Number(m[2]), offers: m[3]!, url: Buffer.from(m[4]!, 'base64url').toString('utf8') } : undefined;
}

/**
 * A clip picked out of a video batch (U1–U4 under clips) has no LegNext job either: its id names the batch job,
 * the clip's number in it (`videoNo`, what /extend-video takes) and its URL.
 */
const CLIP_ID = /^clip:([^:]+):([0-3]):([A-Za-z0-9_-]+)$/;
const clipId = (jobId: string, videoNo: number, url: string) => `clip:${jobId}:${videoNo}:${Buffer.from(url).toString('base64url')}`;
function parseClip(id: string): { jobId: string; videoNo: number; url: string } | undefined {
  const m = CLIP_ID.exec(id);
  return m ? { jobId: m[1]!, videoNo: Number(m[2]), url: Buffer.from(m[3]!, 'base64url').toString('utf8') } : undefined;
}

const VIDEO_FILE = /\.(mp4|webm|mov)(?:[?#]|$)/i;

/** Links out of a list (strings or `{url}` objects) or one string. */
const linksOf = (value: unknown): string[] => urlsOf(Array.isArray(value) ? value : [value]);

/**
 * A video job's clips, or undefined for a job that is not video. The docs show no video job's output: its own
 * fields if it has them (`video_urls`, `videos`, `video_url`), else the image fields of a job whose task_type
 * names video or whose links are all video files.
 */
function clipsOf(job: LegnextJob): string[] | undefined {
  const output = job.output ?? {};
  const own = [...linksOf(output.video_urls), ...linksOf(output.videos)];
  if (own.length > 0) return own;
  const one = linksOf(output.video_url);
  if (one.length > 0) return one;
  const listed = linksOf(output.image_urls);
  const links = listed.length > 0 ? listed : linksOf(output.image_url);
  if (/video/i.test(job.task_type ?? '')) return links;
  return links.length > 0 && links.every((u) => VIDEO_FILE.test(u)) ? links : undefined;
}

/** LegNext's polygons are drawn on a canvas of 500–4096 px a side: smaller masks are scaled up to it. */
const CANVAS_MIN = 500;
const CANVAS_MAX = 4096;
/** The mask is read in cells of this many per side at most (a few dozen rectangles for a hand-drawn lasso). */
const MASK_CELLS = 48;

export interface LegnextArea {
  width: number;
  height: number;
  points: number[];
}

/**
 * The white part of a mask as LegNext's `mask.areas`: rectangles (four points each, in the order of the docs'
 * example) covering every cell of the mask that has a white pixel, on a canvas the mask's shape.
 */
export async function maskAreas(mask: Buffer): Promise<LegnextArea[]> {
  const { data, info } = await sharp(mask).greyscale().raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const cell = Math.max(1, Math.ceil(Math.max(width, height) / MASK_CELLS));
  const cols = Math.ceil(width / cell);
  const rows = Math.ceil(height / cell);
  const marked = (cx: number, cy: number) => {
    for (let y = cy * cell; y < Math.min(height, (cy + 1) * cell); y++) {
      for (let x = cx * cell; x < Math.min(width, (cx + 1) * cell); x++) if (data[(y * width + x) * channels]! >= 128) return true;
    }
    return false;
  };
  // Runs of marked cells per row; a run the row below repeats exactly grows the same rectangle downwards.
  const open = new Map<string, { x0: number; x1: number; y0: number; y1: number }>();
  const rects: Array<{ x0: number; x1: number; y0: number; y1: number }> = [];
  for (let cy = 0; cy < rows; cy++) {
    const runs: Array<[number, number]> = [];
    for (let cx = 0; cx < cols; cx++) {
      if (!marked(cx, cy)) continue;
      const last = runs.at(-1);
      if (last && last[1] === cx) last[1] = cx + 1;
      else runs.push([cx, cx + 1]);
    }
    const next = new Map<string, { x0: number; x1: number; y0: number; y1: number }>();
    for (const [x0, x1] of runs) {
      const key = `${x0}-${x1}`;
      const grown = open.get(key);
      if (grown) {
        grown.y1 = cy + 1;
        open.delete(key);
        next.set(key, grown);
      } else {
        next.set(key, { x0, x1, y0: cy, y1: cy + 1 });
      }
    }
    rects.push(...open.values());
    open.clear();
    for (const [key, r] of next) open.set(key, r);
  }
  rects.push(...open.values());
  const scale = Math.min(Math.max(1, CANVAS_MIN / Math.min(width, height)), CANVAS_MAX / Math.max(width, height));
  const px = (v: number, limit: number) => Math.round(Math.min(v * cell, limit) * scale);
  const [w, h] = [Math.round(width * scale), Math.round(height * scale)];
  return rects.map(({ x0, x1, y0, y1 }) => {
    const [left, right, top, bottom] = [px(x0, width), px(x1, width), px(y0, height), px(y1, height)];
    return { width: w, height: h, points: [left, top, left, bottom, right, bottom, right, top] };
  });
}

/**
 * A grid whose job gave no four-up picture (`image_url: ""`, as in LegNext's get-task example): the bot draws it
 * from the four images when it downloads the result.
 */
const GRID_URL = 'legnext-grid:';
const gridUrl = (images: string[]) => `${GRID_URL}${Buffer.from(JSON.stringify(images)).toString('base64url')}`;

/** The four images side by side, two by two, each at the first one's size. */
async function composeGrid(images: string[]): Promise<DownloadedImage> {
  const parts = await Promise.all(images.slice(0, 4).map((url) => httpDownload(url)));
  const first = await sharp(parts[0]!.data).metadata();
  const [w, h] = [first.width ?? 512, first.height ?? 512];
  const tiles = await Promise.all(parts.map((p) => sharp(p.data).resize(w, h, { fit: 'cover' }).toBuffer()));
  const data = await sharp({ create: { width: w * 2, height: h * 2, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .composite(tiles.map((input, i) => ({ input, left: (i % 2) * w, top: Math.floor(i / 2) * h })))
    .png()
    .toBuffer();
  return { data, contentType: 'image/png' };
}

/** The job out of a reply or a callback: the object itself, or (defensively) under `data`. */
export function jobOf(body: unknown): LegnextJob | undefined {
  const candidate = isRecord(body) && typeof body.job_id !== 'string' && isRecord(body.data) ? body.data : body;
  return isRecord(candidate) && typeof candidate.job_id === 'string' && candidate.job_id ? (candidate as unknown as LegnextJob) : undefined;
}

/** Why LegNext refused or failed: the job's `error`, or an error reply (`{code, message, raw_message}` or `{error:{…}}`). */
function reasonOf(body: unknown): string {
  if (!isRecord(body)) return '';
  const err = isRecord(body.error) ? body.error : body;
  return (str(err.message)?.trim() || str(err.raw_message)?.trim()) ?? '';
}

/** The letters of what image `imageNo` offers; without `available_actions` a grid offers everything. */
function offersFor(actions: LegnextAvailableActions | null | undefined, imageNo: number): string {
  return Object.entries(OFFER_LETTERS)
    .filter(([key]) => !actions || (Array.isArray(actions[key]) && (actions[key] as unknown[]).includes(imageNo)))
    .map(([, letter]) => letter)
    .join('');
}

const offeredActions = (offers: string): InternalAction[] => [...offers].flatMap((letter) => OFFER_ACTIONS[letter] ?? []);

/** A refusal about the account rather than this job (credits, key), from its code or its words. */
function accountProblem(code: number, reason: string, path: string): UpstreamAccountError | undefined {
  const detail = `POST ${path}: ${code}${reason ? ` ${reason}` : ''}`;
  if (code === 401) return new UpstreamAccountError('auth', `${detail} (check UPSTREAM_API_KEY)`);
  if (code === 402 || /insufficient|not enough (credits|points|balance)|top.?up|balance/i.test(reason)) return new UpstreamAccountError('balance', detail);
  if (code === 429) return new UpstreamAccountError('rate_limited', detail);
  if (code >= 500) return new UpstreamAccountError('unavailable', detail);
  // LegNext's 403 is "sensitive content detected or permission denied": only the latter is the operator's.
  if (code === 403 && !/sensitive|content|prompt|banned|moderat|nsfw|policy|prohibit/i.test(reason)) {
    return new UpstreamAccountError('auth', `${detail} (permission denied: check UPSTREAM_API_KEY)`);
  }
  return undefined;
}

export class LegnextProvider implements Provider {
  readonly id = 'legnext' as const;
  readonly capabilities: Capabilities = {
    actions: [...GRID, ...SINGLE, ...VIDEO],
    push: true,
    batchFetch: false,
    // The job object documents no percentage and no preview: the user sees "waiting" until the result.
    progress: false,
    previews: false,
    blend: true,
    describe: true,
    imagePrompts: true,
    // /variation takes `remixPrompt`.
    remix: ['variation:1', 'variation:2', 'variation:3', 'variation:4', 'vary:subtle', 'vary:strong'],
    // /inpaint on an image its grid lists under `available_actions.inpaint` (see inpaintable).
    inpaint: true,
    // /video-diffusion takes a prompt that starts with an image URL (`animate` below).
    animateImages: true,
    // 📋: a finished job lists its `output.seed` (GET /job/{job_id}).
    seed: true,
  };
  private readonly resolve = (url: string) => this.http.resolve(url);

  constructor(private readonly http: UpstreamHttp) {}

  static create({ baseUrl, apiKey, timeoutMs }: RelayConnection): LegnextProvider {
    return new LegnextProvider(new UpstreamHttp(baseUrl, { 'x-api-key': apiKey }, timeoutMs));
  }

  async submit(req: SubmitRequest): Promise<Submitted> {
    const callback = req.callbackUrl ? { callback: req.callbackUrl } : {};
    if (req.kind === 'imagine') {
      // Image prompts are URLs before the text; the speed mode is Midjourney's own prompt flag.
      const text = [...(req.images ?? []).map((i) => i.url), withModeParam(req.prompt, req.mode)].join(' ');
      return this.post('/diffusion', { text, ...callback });
    }
    if (req.kind === 'blend') {
      return this.post('/blend', { base64Array: await dataUris(req.images), dimension: BLEND_DIMENSION[req.dimensions], ...callback });
    }
    if (req.kind === 'describe') return this.post('/describe', { imgUrl: req.image.url, ...callback });
    const { action, parent } = req;
    if (isVideoAction(action)) return this.submitVideo(action, parent, req.prompt, callback);
    const index = actionIndex(action);
    // U1–U4: the grid already holds the four images.
    if (action.startsWith('upscale:') && index) return this.pick(parent, index - 1);
    if (action === 'reroll') return this.post('/reroll', { jobId: parent.upstreamId, ...callback });
    const { jobId, imageNo } = target(parent, index);
    // A remix: this task's own prompt when it differs from the parent's.
    const remix = req.prompt && req.prompt !== parent.prompt ? { remixPrompt: req.prompt } : {};
    if (action.startsWith('variation:')) return this.post('/variation', { jobId, imageNo, type: 1, ...remix, ...callback });
    if (action === 'vary:subtle' || action === 'vary:strong') {
      return this.post('/variation', { jobId, imageNo, type: action === 'vary:strong' ? 1 : 0, ...remix, ...callback });
    }
    if (action === 'upscale:subtle' || action === 'upscale:creative') {
      return this.post('/upscale', { jobId, imageNo, type: action === 'upscale:creative' ? 1 : 0, ...callback });
    }
    if (action === 'zoom:2' || action === 'zoom:1.5') return this.post('/outpaint', { jobId, imageNo, scale: action === 'zoom:2' ? 2 : 1.5, ...callback });
    const direction = DIRECTION[action];
    if (direction !== undefined) return this.post('/pan', { jobId, imageNo, direction, scale: PAN_SCALE, ...callback });
    // Custom Zoom and the v5 2x/4x upscalers are not offered.
    throw new UpstreamRejected('errors.actionUnavailable');
  }

  private pick(parent: ParentRef, imageNo: number): Submitted {
    const data = parent.upstreamData ?? {};
    const images = Array.isArray(data.images) ? data.images : [];
    const offers = Array.isArray(data.offers) ? data.offers : [];
    const url = images[imageNo];
    if (typeof url !== 'string' || !url) throw new UpstreamRejected('errors.actionUnavailable');
    const offered = typeof offers[imageNo] === 'string' ? offers[imageNo] : '';
    return { upstreamId: pickedId(parent.upstreamId, imageNo, offered, url), upstreamData: { region: offered.includes('i') } };
  }

  /**
   * Animate: /video-diffusion on the image (a pick's grid job and image number, or an upscale's own job, image 0);
   * U1–U4 of a batch make no call (the batch listed every clip); Extend: /extend-video on one clip of a batch.
   */
  private async submitVideo(action: InternalAction, parent: ParentRef, prompt: string | undefined, callback: { callback?: string }): Promise<Submitted> {
    const pick = videoPickIndex(action);
    if (pick) {
      const data = parent.upstreamData ?? {};
      const jobId = str(data.videoJob);
      const clips: unknown[] = Array.isArray(data.clips) ? data.clips : parent.imageUrls;
      const url = clips[pick - 1];
      if (!jobId || typeof url !== 'string' || !url) throw new UpstreamRejected('errors.actionUnavailable');
      return { upstreamId: clipId(jobId, pick - 1, url), upstreamData: { video: { jobId, videoNo: pick - 1 } } };
    }
    const motion = isVideoAction(action) ? videoMotion(action) : undefined;
    if (!motion) throw new UpstreamRejected('errors.actionUnavailable');
    if ((ANIMATE_ACTIONS as readonly string[]).includes(action)) {
      const { jobId, imageNo } = target(parent, undefined);
      return this.post('/video-diffusion', { jobId, imageNo, prompt: withMotion(prompt ?? parent.prompt, motion), videoType: VIDEO_TYPE, ...callback });
    }
    const video = isRecord(parent.upstreamData?.video) ? parent.upstreamData.video : {};
    if (typeof video.jobId !== 'string' || typeof video.videoNo !== 'number') throw new UpstreamRejected('errors.actionUnavailable');
    return this.post('/extend-video', { jobId: video.jobId, videoNo: video.videoNo, prompt: withMotion(parent.prompt, motion), ...callback });
  }

  /**
   * /animate: text mode of /video-diffusion, the attachment's link first in the prompt (as the docs' example).
   * The end frame and the loop go as Midjourney's own `--end <url>` and `--loop` (not in LegNext's docs).
   */
  async animate(req: AnimateRequest): Promise<Submitted> {
    const text = withMotion([req.image.url, req.prompt.trim()].filter(Boolean).join(' '), req.motion);
    const prompt = [text, req.endImage ? `--end ${req.endImage.url}` : '', req.loop ? '--loop' : ''].filter(Boolean).join(' ');
    return this.post('/video-diffusion', { prompt, videoType: VIDEO_TYPE, ...(req.callbackUrl ? { callback: req.callbackUrl } : {}) });
  }

  /**
   * 📋: the `output.seed` of the job, read again (free); a pick's is its grid's, a clip's its batch's. A job LegNext
   * no longer knows, or one without a seed, has none to tell.
   */
  async seed(job: ParentRef): Promise<string | undefined> {
    const id = parsePicked(job.upstreamId)?.jobId ?? parseClip(job.upstreamId)?.jobId ?? job.upstreamId;
    const { status, body } = await this.http.json(`${API}/job/${encodeURIComponent(id)}`);
    const found = jobOf(body);
    if (status >= 400 || !found) return undefined;
    const seed = found.output?.seed;
    const text = typeof seed === 'number' ? String(seed) : str(seed)?.trim();
    return text && /^\d+$/.test(text) ? text : undefined;
  }

  /** Only a picked image its grid listed under `available_actions.inpaint`. */
  inpaintable(upstreamData: Record<string, unknown> | null): boolean {
    return upstreamData?.region === true;
  }

  /** Vary (Region): /inpaint on the picked image, the mask as polygons, the edited prompt as `remixPrompt`. */
  async inpaint(req: InpaintRequest): Promise<Submitted> {
    const picked = parsePicked(req.parent.upstreamId);
    if (!picked || !picked.offers.includes('i')) throw new UpstreamRejected('errors.actionUnavailable');
    const areas = await maskAreas(req.mask);
    if (areas.length === 0) throw new UpstreamRejected('editor:errors.emptyMask');
    const remix = req.prompt.trim() ? { remixPrompt: req.prompt.trim() } : {};
    return this.post('/inpaint', { jobId: picked.jobId, imageNo: picked.imageNo, mask: { areas }, ...remix, ...(req.callbackUrl ? { callback: req.callbackUrl } : {}) });
  }

  private async post(path: string, body: Record<string, unknown>): Promise<Submitted> {
    const full = `${API}${path}`;
    // 403 is handed back: LegNext uses it for refused content as well as for a refused key.
    const { status, body: answer } = await this.http.json(full, { body, passStatuses: [403] });
    const job = jobOf(answer);
    const code = !job && isRecord(answer) && typeof answer.code === 'number' && answer.code >= 400 ? answer.code : status;
    if (code < 400 && job) {
      if (job.status?.toLowerCase() === 'failed') throw new UpstreamRejected(reasonOf(job.error) || 'errors.upstreamNoReason');
      return { upstreamId: job.job_id };
    }
    if (code === 404) throw new UpstreamAccountError('unavailable', `POST ${full}: HTTP 404 (check UPSTREAM_BASE_URL)`);
    const reason = reasonOf(answer);
    const account = accountProblem(code, reason, full);
    if (account) throw account;
    if (code >= 400 && reason) throw new UpstreamRejected(reason);
    throw new UpstreamAccountError('unavailable', `POST ${full}: HTTP ${status} without a job`);
  }

  async fetch(ids: string[]): Promise<UpstreamJob[]> {
    // No batch read is documented: one GET per job, a few at a time.
    return fetchEach(ids, 4, async (id) => {
      const picked = parsePicked(id);
      if (picked) {
        const actions = [...offeredActions(picked.offers), ...ANIMATE];
        return { upstreamId: id, status: 'succeeded', progress: 100, imageUrls: [picked.url], actions, upstreamData: { region: picked.offers.includes('i') } };
      }
      const clip = parseClip(id);
      if (clip) return { upstreamId: id, status: 'succeeded', progress: 100, imageUrls: [clip.url], actions: [...EXTEND_ACTIONS], upstreamData: { video: { jobId: clip.jobId, videoNo: clip.videoNo } } };
      const { status, body } = await this.http.json(`${API}/job/${encodeURIComponent(id)}`);
      const job = jobOf(body);
      // 404 or another refusal of this one id: LegNext does not know the job (any more). Account-wide problems
      // (401/403, 402, 429, 5xx) were thrown by the HTTP client and fail the whole read.
      return status >= 400 || !job || job.job_id !== id ? undefined : this.toJob(job);
    });
  }

  /**
   * LegNext's own links over HTTP (an image, or a clip, which CDNs often serve as octet-stream: told by its bytes);
   * a grid it sent no picture of, drawn from its four images.
   */
  async download(url: string): Promise<DownloadedImage> {
    if (!url.startsWith(GRID_URL)) {
      const got = await httpDownload(url, undefined, undefined, 'video');
      if (!got.contentType.startsWith('image/') && !isMp4(got.data)) throw new DownloadError(`not an image: ${got.contentType || 'no content type'}`);
      return got;
    }
    const images: unknown = JSON.parse(Buffer.from(url.slice(GRID_URL.length), 'base64url').toString('utf8'));
    return composeGrid(Array.isArray(images) ? images.filter((u): u is string => typeof u === 'string') : []);
  }

  parseWebhook(body: unknown): UpstreamJob | undefined {
    const job = jobOf(body);
    return job ? this.toJob(job) : undefined;
  }

  /** Normalises one job object (public so contract tests can feed it the documented replies). */
  toJob(job: LegnextJob): UpstreamJob {
    const upstreamId = job.job_id;
    const output = job.output ?? {};
    switch (job.status?.toLowerCase()) {
      case 'completed':
        return this.completed(job);
      case 'failed':
        return { upstreamId, status: 'failed', failReason: reasonOf(job.error) || 'errors.upstreamNoReason' };
      case 'processing': {
        // Not documented, read if LegNext sends one.
        const progress = percentOf((job as { progress?: unknown }).progress ?? (output as { progress?: unknown }).progress);
        return { upstreamId, status: 'running', progress: progress ?? 0 };
      }
      default:
        // pending, staged, or a status this adapter does not know yet: still waiting.
        return { upstreamId, status: 'submitted', progress: 0 };
    }
  }

  private completed(job: LegnextJob): UpstreamJob {
    const upstreamId = job.job_id;
    const output = job.output ?? {};
    if (job.task_type === 'describe') {
      const list = (output.prompts ?? []).filter((p): p is string => typeof p === 'string' && p.trim() !== '').map((p) => p.trim());
      const descriptions = list.length > 0 ? list : parseDescriptions(output.promptEn || output.finalPrompt || output.description || '');
      if (descriptions.length === 0) return { upstreamId, status: 'failed', failReason: 'errors.upstreamNoReason' };
      return { upstreamId, status: 'succeeded', progress: 100, imageUrls: [], actions: [], descriptions };
    }
    const clips = clipsOf(job);
    if (clips) return this.videoDone(upstreamId, clips);
    const images = (output.image_urls ?? []).filter((u): u is string => typeof u === 'string' && u !== '').map(this.resolve);
    const main = str(output.image_url);
    const available = isRecord(output.available_actions) ? output.available_actions : undefined;
    if (images.length >= 2) {
      // A grid: `image_url` is the four-up picture when LegNext sends one; otherwise the bot draws it.
      const offers = images.map((_, i) => offersFor(available, i));
      const actions = GRID.filter((a) => {
        const i = actionIndex(a);
        if (a === 'reroll') return available ? available.reroll === true : true;
        if (!i || i > images.length) return false;
        // U picks need no LegNext call; V needs the image's variation.
        return a.startsWith('upscale:') || offers[i - 1]!.includes('v');
      });
      return { upstreamId, status: 'succeeded', progress: 100, imageUrls: [main ? this.resolve(main) : gridUrl(images), ...images], actions, upstreamData: { images, offers } };
    }
    const image = main ? this.resolve(main) : images[0];
    if (!image) return { upstreamId, status: 'failed', failReason: 'errors.upstreamNoReason' };
    // One image (an upscale): what LegNext lists for it, acting on this job's image 0, and Animate.
    const offers = available ? offersFor(available, 0) : '';
    return { upstreamId, status: 'succeeded', progress: 100, imageUrls: [image], actions: [...offeredActions(offers), ...ANIMATE], upstreamData: { single: true } };
  }

  /** A finished video job: four clips offer U1–U4 (picks, served without a call); one clip offers Extend. */
  private videoDone(upstreamId: string, clips: string[]): UpstreamJob {
    const urls = clips.slice(0, VIDEO_PICKS.length).map(this.resolve);
    if (urls.length === 0) return { upstreamId, status: 'failed', failReason: 'video:errors.notVideo' };
    if (urls.length === 1) return { upstreamId, status: 'succeeded', progress: 100, imageUrls: urls, actions: [...EXTEND_ACTIONS], upstreamData: { video: { jobId: upstreamId, videoNo: 0 } } };
    return { upstreamId, status: 'succeeded', progress: 100, imageUrls: urls, actions: VIDEO_PICKS.slice(0, urls.length), upstreamData: { videoJob: upstreamId, clips: urls } };
  }
}

/** The grid job and image number an action on `parent` acts on. */
function target(parent: ParentRef, index: number | undefined): { jobId: string; imageNo: number } {
  const picked = parsePicked(parent.upstreamId);
  if (picked) return { jobId: picked.jobId, imageNo: picked.imageNo };
  return { jobId: parent.upstreamId, imageNo: index ? index - 1 : 0 };
}
