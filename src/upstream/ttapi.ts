// TTApi (`UPSTREAM_PROVIDER=ttapi`): `TT-API-KEY` header, `POST /midjourney/v1/imagine` and `/action`
// → `{status, message, data:{jobId}}`, `GET /midjourney/v1/fetch?jobId=` (free of quota, one job per call).
// A job's `data.components` list what may follow it; an action sends one of those names back verbatim.
// `hookUrl` receives the fetch-shaped body and is retried until we answer 200. `discordImage` links expire
// after 24 h, so `cdnImage` is preferred.
// Video (docs.ttapi.io videoapi/submit and videoapi/extend): `POST /midjourney/video/submit {prompt, imageUrl,
// endingUrl?, mode, manual: low|high, resolution: sd|hd (TTAPI_VIDEO_RESOLUTION), bs: 1|2|4, hookUrl?}` and
// `POST /midjourney/video/extend {jobId, index 0–3, manual, animateMode: auto|manual, bs, hookUrl?}` → `data.jobId`
// (newer pages: `data.job_id`); results through /v1/fetch or the hook. Where a finished video job lists its clips
// is not documented: every likely field is read.
// Vary (Region) (docs.ttapi.io/api/cn/midjourney/inpaint): `POST /midjourney/v1/inpaint {jobId, mask, prompt,
// timeout?, hookUrl?}` → `data.job_id`; `jobId` is the upscale's, `mask` a black-and-white PNG of the image's size
// (white is repainted) in base64 without the `data:` prefix. The result is a grid, fetched like any job.
// 📋 (docs.mjapiapp.com/reference/midjourney-api, "Seeds [ --seed ]"): `POST /midjourney/v1/seed {jobId, hookUrl?,
// timeout?}` → `data.jobId`; the seed is that job's `data.seed` in /v1/fetch (which lists `seed` on every job).
import { ANIMATE_ACTIONS, EXTEND_ACTIONS, INTERNAL_ACTIONS, VIDEO_PICKS, isVideoAction, videoMotion, videoPickIndex, type InternalAction } from './actions.ts';
import { UpstreamHttp, type RelayConnection } from './http.ts';
import { parseDescriptions } from './midjourney-proxy.ts';
import { fetchEach, isRecord, namesByAction, relayAction, strOrNumber } from './parse.ts';
import {
  UpstreamAccountError,
  UpstreamRejected,
  type AnimateRequest,
  type Capabilities,
  type InpaintRequest,
  type ParentRef,
  type Provider,
  type Submitted,
  type SubmitRequest,
  type UpstreamJob,
} from './provider.ts';

const NAMED: Record<string, InternalAction> = {
  reroll: 'reroll',
  low_variation: 'vary:subtle',
  high_variation: 'vary:strong',
  zoom_out_2: 'zoom:2',
  zoom_out_1_5: 'zoom:1.5',
  pan_left: 'pan:left',
  pan_right: 'pan:right',
  pan_up: 'pan:up',
  pan_down: 'pan:down',
  upscale2: 'upscale:2x',
  upscale4: 'upscale:4x',
  upscale_subtle: 'upscale:subtle',
  upscale_creative: 'upscale:creative',
  // Midjourney's own names for an upscale's Animate buttons (unconfirmed for TTApi): their presence is what offers
  // Animate; the animation itself goes through /midjourney/video/submit with the image's URL.
  animate_low: 'animate:low',
  animate_high: 'animate:high',
};

// `upscale2`/`upscale4` are the big upscalers of a single image; U1–U4 are `upsample1..4`.
/** TTApi component names → ours (names beyond upsample/variation are unconfirmed; unknown ones are ignored). */
export function ttComponentToInternal(name: string): InternalAction | undefined {
  return relayAction(name, /^(upsample|variation)([1-4])$/, NAMED);
}

/** Joins a batch's job id and a clip number into a pick's id (TTApi's job ids are UUIDs: never this). */
const PICK_MARK = '#clip-';

const STATUS: Record<string, UpstreamJob['status']> = {
  PENDING_QUEUE: 'submitted',
  ON_QUEUE: 'running',
  SUCCESS: 'succeeded',
  FAILED: 'failed',
};

/** A video job's clips: `videoUrls`/`videos`/`video_urls` (strings or `{url}`), else one `videoUrl`/`video_url`. */
function clipsOf(data: Record<string, unknown>): string[] {
  for (const key of ['videoUrls', 'videos', 'video_urls']) {
    const list = Array.isArray(data[key]) ? (data[key] as unknown[]) : [];
    const urls = list.map((v) => (isRecord(v) ? strOrNumber(v.url) : strOrNumber(v))).filter((u): u is string => Boolean(u));
    if (urls.length > 0) return urls;
  }
  const one = strOrNumber(data.videoUrl) ?? strOrNumber(data.video_url);
  return one ? [one] : [];
}

/** The clip an Extend continues: TTApi's video job and the clip's index (0–3) in it. */
interface VideoRef {
  jobId: string;
  index: number;
}

/** Normalises a fetch answer or a hookUrl body: `{status, message, jobId, data:{...}}`. */
export function parseTtJob(body: unknown, resolve: (url: string) => string): UpstreamJob | undefined {
  if (!isRecord(body)) return undefined;
  const data = isRecord(body.data) ? body.data : {};
  const upstreamId = strOrNumber(body.jobId) ?? strOrNumber(data.jobId) ?? strOrNumber(body.job_id) ?? strOrNumber(data.job_id);
  const status = STATUS[strOrNumber(body.status)?.toUpperCase() ?? ''];
  if (!upstreamId || !status) return undefined;
  if (status === 'failed') return { upstreamId, status, failReason: strOrNumber(body.message) ?? strOrNumber(data.message) ?? 'errors.upstreamNoReason' };
  const progress = Number.parseFloat(strOrNumber(data.progress) ?? '');
  const image = strOrNumber(data.cdnImage) ?? strOrNumber(data.discordImage);
  if (status !== 'succeeded') {
    return { upstreamId, status, progress: Number.isFinite(progress) ? progress : undefined };
  }
  if (strOrNumber(data.action)?.toLowerCase() === 'describe') {
    // The four prompts: a list, or one text numbered 1️⃣–4️⃣ (in `prompt`).
    const list = Array.isArray(data.prompts) ? data.prompts.filter((p): p is string => typeof p === 'string' && p.trim() !== '') : [];
    const descriptions = list.length > 0 ? list.map((p) => p.trim()) : parseDescriptions(strOrNumber(data.prompt) ?? '');
    if (descriptions.length === 0) return { upstreamId, status: 'failed', failCode: 'no_description' };
    return { upstreamId, status, progress: 100, imageUrls: [], actions: [], descriptions };
  }
  const clips = clipsOf(data);
  if (clips.length > 0 || /video|animate|extend/i.test(strOrNumber(data.action) ?? '')) {
    if (clips.length === 0) return { upstreamId, status: 'failed', failReason: 'video:errors.notVideo' };
    const urls = clips.slice(0, 4).map(resolve);
    // One clip (a batch of one, or an Extend) is extended directly; a batch offers its picks first.
    if (urls.length === 1) return { upstreamId, status, progress: 100, imageUrls: urls, actions: [...EXTEND_ACTIONS], upstreamData: { video: { jobId: upstreamId, index: 0 } } };
    return { upstreamId, status, progress: 100, imageUrls: urls, actions: VIDEO_PICKS.slice(0, urls.length), upstreamData: {} };
  }
  if (!image) return { upstreamId, status: 'failed', failReason: strOrNumber(body.message), failCode: strOrNumber(body.message) ? undefined : 'no_image' };
  const names = namesByAction(data.components, ttComponentToInternal);
  // Manual Animate (the user's motion prompt) wherever the image can be animated.
  if (names['animate:low']) names['animate:manual:low'] = names['animate:low'];
  if (names['animate:high']) names['animate:manual:high'] = names['animate:high'];
  const singles = Array.isArray(data.images) ? data.images.filter((u): u is string => typeof u === 'string' && u !== '') : [];
  return {
    upstreamId,
    status,
    progress: 100,
    imageUrls: [image, ...singles].map(resolve),
    actions: INTERNAL_ACTIONS.filter((a) => names[a]),
    upstreamData: { components: names },
  };
}

export class TtApiProvider implements Provider {
  readonly id = 'ttapi' as const;
  readonly capabilities: Capabilities = {
    actions: INTERNAL_ACTIONS.filter((a) => a !== 'zoom:custom'),
    push: true,
    // One job per fetch call: the core's batch is fetched a few at a time.
    batchFetch: false,
    progress: true,
    // The docs show no preview image while a job runs.
    previews: false,
    // Image prompts are URLs before the text; /describe takes the image's URL. Blend wants base64 images in a
    // shape the docs do not pin down, so it is not offered.
    blend: false,
    describe: true,
    imagePrompts: true,
    // Vary (Region) through /midjourney/v1/inpaint, on the upscales that offer Vary (Strong/Subtle).
    inpaint: true,
    // 📋 through /midjourney/v1/seed (or the job's own `data.seed` when its fetch already tells it).
    seed: true,
    // /animate: /midjourney/video/submit takes any image's URL (`animate` below).
    animateImages: true,
    // Its video submit requires `prompt`.
    animateNeedsPrompt: true,
  };
  /** How long 📋 waits for TTApi's seed job, and how often it looks. */
  seedWaitMs = 60_000;
  seedPollMs = 500;
  private readonly http: UpstreamHttp;
  private readonly resolve = (url: string) => this.http.resolve(url);

  static create(relay: RelayConnection, opts: { videoResolution?: 'sd' | 'hd' } = {}): TtApiProvider {
    return new TtApiProvider(relay.baseUrl, relay.apiKey, 'fast', relay.timeoutMs, opts.videoResolution);
  }

  constructor(
    baseUrl: string,
    apiKey: string,
    private readonly mode: 'fast' | 'relax' | 'turbo' = 'fast',
    timeoutMs?: number,
    /** Animate's `resolution` (TTAPI_VIDEO_RESOLUTION); sd, TTApi's default, is not sent. */
    private readonly videoResolution: 'sd' | 'hd' = 'sd',
  ) {
    this.http = new UpstreamHttp(baseUrl, { 'TT-API-KEY': apiKey }, timeoutMs);
  }

  async submit(req: SubmitRequest): Promise<Submitted> {
    const hook = req.callbackUrl ? { hookUrl: req.callbackUrl } : {};
    if (req.kind === 'imagine') {
      const prompt = [...(req.images ?? []).map((i) => i.url), req.prompt].join(' ');
      return { upstreamId: await this.post('/midjourney/v1/imagine', { prompt, mode: req.mode ?? this.mode, ...hook }) };
    }
    if (req.kind === 'describe') {
      return { upstreamId: await this.post('/midjourney/v1/describe', { url: req.image.url, mode: this.mode, ...hook }) };
    }
    if (req.kind === 'blend') throw new UpstreamRejected('images:errors.unsupported');
    if (isVideoAction(req.action)) return this.submitVideo(req.action, req.parent, req.prompt, hook);
    const data = req.parent.upstreamData ?? {};
    const names = isRecord(data.components) ? data.components : {};
    // Only what the parent listed may be sent back; the button was only shown if it was listed.
    const action = strOrNumber(names[req.action]);
    if (!action) throw new UpstreamRejected('errors.actionUnavailable');
    return { upstreamId: await this.post('/midjourney/v1/action', { jobId: req.parent.upstreamId, action, ...hook }) };
  }

  /**
   * Animate posts the image's URL to /midjourney/video/submit (a batch of four); a pick has no TTApi call (the
   * batch already holds every clip): its id is the batch's job id and the clip number, read back from the batch;
   * Extend continues one clip through /midjourney/video/extend (a batch of one).
   */
  private async submitVideo(action: InternalAction, parent: ParentRef, prompt: string | undefined, hook: { hookUrl?: string }): Promise<Submitted> {
    const pick = videoPickIndex(action);
    if (pick) return { upstreamId: `${parent.upstreamId}${PICK_MARK}${pick}`, upstreamData: { video: { jobId: parent.upstreamId, index: pick - 1 } } };
    const motion = isVideoAction(action) ? videoMotion(action) : undefined;
    if (!motion) throw new UpstreamRejected('errors.actionUnavailable');
    if ((ANIMATE_ACTIONS as readonly string[]).includes(action)) {
      const imageUrl = parent.imageUrls[0];
      if (!imageUrl) throw new UpstreamRejected('errors.expired');
      const resolution = this.videoResolution === 'hd' ? { resolution: 'hd' } : {};
      const body = { prompt: prompt ?? parent.prompt, imageUrl, mode: 'fast', manual: motion, ...resolution, bs: 4, ...hook };
      return { upstreamId: await this.post('/midjourney/video/submit', body) };
    }
    const video = parent.upstreamData?.video as VideoRef | undefined;
    if (!video || typeof video.jobId !== 'string') throw new UpstreamRejected('errors.actionUnavailable');
    const body = { jobId: video.jobId, index: video.index, manual: motion, animateMode: 'auto', bs: 1, ...hook };
    return { upstreamId: await this.post('/midjourney/video/extend', body) };
  }

  /**
   * Midjourney offers Vary (Region) beside Vary (Strong)/(Subtle) on an upscale; TTApi's components list no name
   * of its own for it (docs.ttapi.io's action list), so those two stand for it.
   */
  inpaintable(upstreamData: Record<string, unknown> | null): boolean {
    const names = isRecord(upstreamData?.components) ? upstreamData.components : {};
    return Boolean(names['vary:subtle'] ?? names['vary:strong']);
  }

  async inpaint(req: InpaintRequest): Promise<Submitted> {
    const hook = req.callbackUrl ? { hookUrl: req.callbackUrl } : {};
    const body = { jobId: req.parent.upstreamId, mask: req.mask.toString('base64'), prompt: req.prompt, ...hook };
    return { upstreamId: await this.post('/midjourney/v1/inpaint', body) };
  }

  /**
   * The job's own fetch first (free; `data.seed` may already be there), else a seed job whose fetch carries it.
   * Some pages show the seed call answering the parent's own id: then the parent is fetched until its seed shows.
   */
  async seed(job: ParentRef): Promise<string | undefined> {
    const own = await this.seedOf(job.upstreamId);
    if (own.seed) return own.seed;
    const id = await this.post('/midjourney/v1/seed', { jobId: job.upstreamId });
    const deadline = Date.now() + this.seedWaitMs;
    for (;;) {
      const state = await this.seedOf(id);
      if (state.seed) return state.seed;
      if (state.status === 'FAILED') throw new UpstreamRejected(state.message ?? 'errors.upstreamNoReason');
      // A finished seed job without one: TTApi cannot tell it.
      if ((state.status === 'SUCCESS' && id !== job.upstreamId) || Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, this.seedPollMs));
    }
  }

  /** A job's `data.seed` (digits only) as /v1/fetch tells it, with the job's status and message. */
  private async seedOf(jobId: string): Promise<{ seed?: string; status?: string; message?: string }> {
    const res = await this.http.json<unknown>('/midjourney/v1/fetch', { query: { jobId } });
    if (res.status === 499) throw new UpstreamAccountError('queue_full', '/midjourney/v1/fetch: HTTP 499');
    if (res.status >= 400 || !isRecord(res.body)) return {};
    const data = isRecord(res.body.data) ? res.body.data : {};
    const seed = strOrNumber(data.seed)?.trim();
    return { seed: seed && /^\d+$/.test(seed) ? seed : undefined, status: strOrNumber(res.body.status)?.toUpperCase(), message: strOrNumber(res.body.message) };
  }

  /**
   * /animate: the uploaded image's URL to /midjourney/video/submit, as Animate sends an upscale's. TTApi has no
   * `loop`: a loop goes as `endingUrl` = the start image (Midjourney's loop ends on the start frame). Its `prompt`
   * is required: without a motion prompt the job is refused with a sentence saying so.
   */
  async animate(req: AnimateRequest): Promise<Submitted> {
    if (!req.prompt.trim()) throw new UpstreamRejected('video:errors.promptRequired');
    const endingUrl = req.loop ? req.image.url : req.endImage?.url;
    const resolution = this.videoResolution === 'hd' ? { resolution: 'hd' } : {};
    const body = { prompt: req.prompt, imageUrl: req.image.url, ...(endingUrl && { endingUrl }), mode: 'fast', manual: req.motion, ...resolution, bs: 4, ...(req.callbackUrl && { hookUrl: req.callbackUrl }) };
    return { upstreamId: await this.post('/midjourney/video/submit', body) };
  }

  private async post(path: string, body: Record<string, unknown>): Promise<string> {
    const res = await this.http.json<unknown>(path, { body });
    this.throwIfRefused(path, res.status, res.body);
    const data = isRecord(res.body) && isRecord(res.body.data) ? res.body.data : {};
    const jobId = strOrNumber(data.jobId) ?? strOrNumber(data.job_id);
    if (!jobId) throw new UpstreamAccountError('unavailable', `${path}: answer without a jobId`);
    return jobId;
  }

  /** HTTP 499 is TTApi's "queue exhausted"; `{status:"FAILED", message}` refuses this one job. */
  private throwIfRefused(path: string, status: number, body: unknown): void {
    const message = isRecord(body) ? strOrNumber(body.message) : undefined;
    if (status === 499) throw new UpstreamAccountError('queue_full', `${path}: HTTP 499 ${message ?? 'queue exhausted'}`);
    // No such endpoint, or no JSON object at all: not TTApi answering (check UPSTREAM_BASE_URL), not this job's fault.
    if (status === 404 || !isRecord(body)) throw new UpstreamAccountError('unavailable', `${path}: HTTP ${status} without a TTApi answer (check UPSTREAM_BASE_URL)`);
    if (status >= 400 || strOrNumber(body.status)?.toUpperCase() === 'FAILED') {
      throw new UpstreamRejected(message ?? `HTTP ${status}`);
    }
  }

  async fetch(ids: string[]): Promise<UpstreamJob[]> {
    // A few at a time: the account runs at most 10 jobs anyway, and each fetch is one request.
    return fetchEach(ids, 4, (jobId) => this.fetchOne(jobId));
  }

  private async fetchOne(jobId: string): Promise<UpstreamJob | undefined> {
    const pick = jobId.split(PICK_MARK);
    if (pick.length === 2) return this.fetchPick(jobId, pick[0]!, Number(pick[1]));
    const res = await this.http.json<unknown>('/midjourney/v1/fetch', { query: { jobId } });
    if (res.status === 499) throw new UpstreamAccountError('queue_full', '/midjourney/v1/fetch: HTTP 499');
    // Any other refusal concerns this job id alone (unknown, malformed): leave it out, as the interface asks.
    if (res.status >= 400) return undefined;
    const job = parseTtJob(res.body, this.resolve);
    // Answers about another job (or none) are not this one's state.
    return job && job.upstreamId === jobId ? job : undefined;
  }

  /** A pick: the batch's clip `n`, extended from there. */
  private async fetchPick(id: string, batchId: string, n: number): Promise<UpstreamJob | undefined> {
    const batch = await this.fetchOne(batchId);
    if (!batch) return undefined;
    if (batch.status !== 'succeeded') return { ...batch, upstreamId: id };
    const clip = batch.imageUrls?.[n - 1];
    if (!clip) return { upstreamId: id, status: 'failed', failReason: 'video:errors.notVideo' };
    return { upstreamId: id, status: 'succeeded', progress: 100, imageUrls: [clip], actions: [...EXTEND_ACTIONS], upstreamData: { video: { jobId: batchId, index: n - 1 } } };
  }

  parseWebhook(body: unknown): UpstreamJob | undefined {
    return parseTtJob(body, this.resolve);
  }
}
