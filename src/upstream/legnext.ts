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
import sharp from '../sharp.ts';
import { httpDownload } from './download.ts';
import { actionIndex, type InternalAction } from './actions.ts';
import { UpstreamHttp, type RelayConnection } from './http.ts';
import { dataUris, parseDescriptions } from './midjourney-proxy.ts';
import { fetchEach, isRecord, percentOf, str, withModeParam } from './parse.ts';
import {
  UpstreamAccountError,
  UpstreamRejected,
  type BlendDimensions,
  type Capabilities,
  type DownloadedImage,
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
    seed?: string;
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
const OFFER_LETTERS = { variation: 'v', upscale: 'u', outpaint: 'o', pan: 'p' } as const;
const OFFER_ACTIONS: Record<string, InternalAction[]> = {
  v: ['vary:strong', 'vary:subtle'],
  u: ['upscale:subtle', 'upscale:creative'],
  o: ['zoom:2', 'zoom:1.5'],
  p: ['pan:left', 'pan:right', 'pan:up', 'pan:down'],
};

const GRID: InternalAction[] = ['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll', 'variation:1', 'variation:2', 'variation:3', 'variation:4'];
const SINGLE: InternalAction[] = Object.values(OFFER_ACTIONS).flat();

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
    actions: [...GRID, ...SINGLE],
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
    return { upstreamId: pickedId(parent.upstreamId, imageNo, typeof offers[imageNo] === 'string' ? offers[imageNo] : '', url) };
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
      if (picked) return { upstreamId: id, status: 'succeeded', progress: 100, imageUrls: [picked.url], actions: offeredActions(picked.offers) };
      const { status, body } = await this.http.json(`${API}/job/${encodeURIComponent(id)}`);
      const job = jobOf(body);
      // 404 or another refusal of this one id: LegNext does not know the job (any more). Account-wide problems
      // (401/403, 402, 429, 5xx) were thrown by the HTTP client and fail the whole read.
      return status >= 400 || !job || job.job_id !== id ? undefined : this.toJob(job);
    });
  }

  /** LegNext's own links over HTTP; a grid it sent no picture of, drawn from its four images. */
  async download(url: string): Promise<DownloadedImage> {
    if (!url.startsWith(GRID_URL)) return httpDownload(url);
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
    // One image (an upscale): only what LegNext lists for it, acting on this job's image 0.
    const offers = available ? offersFor(available, 0) : '';
    return { upstreamId, status: 'succeeded', progress: 100, imageUrls: [image], actions: offeredActions(offers), upstreamData: { single: true } };
  }
}

/** The grid job and image number an action on `parent` acts on. */
function target(parent: ParentRef, index: number | undefined): { jobId: string; imageNo: number } {
  const picked = parsePicked(parent.upstreamId);
  if (picked) return { jobId: picked.jobId, imageNo: picked.imageNo };
  return { jobId: parent.upstreamId, imageNo: index ? index - 1 : 0 };
}
