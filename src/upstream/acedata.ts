// AceData Cloud (`UPSTREAM_PROVIDER=acedata`): one endpoint, `POST /midjourney/imagine`, for imagine and every
// action; an action names the parent's **image_id** (kept in upstreamData) and one of the parent's `actions`.
// Push: with `callback_url` AceData answers `{task_id}` at once and POSTs the final result later; polling
// (`POST /midjourney/tasks`, retrieve_batch) is the safety net. Without a callback the request would block until
// the image is done, so the adapter streams ndjson in the background instead and serves fetch() from it.
// Video (platform.acedata.cloud/documents/midjourney-videos; AceDataCloud/Docs openapi/midjourney.json): `POST
// /midjourney/videos {action: generate|extend, prompt, image_url, end_image_url?, loop?, mode: fast|turbo,
// resolution: 480p|720p, video_id + video_index (extend), callback_url?}` → `{success, task_id, video_id,
// video_urls[4], image_url (cover), progress}`, streamed or called back like an image. The docs name no motion
// field: Low/High motion go as Midjourney's own `--motion low|high` at the end of the prompt (unconfirmed).
// Vary (Region) is `variation_region` on /midjourney/imagine with a mask; ✏️ Edit goes to /midjourney/edits (both
// streamed or called back like imagine); /midjourney/describe and /midjourney/shorten answer at once.
// 📋 seed: `POST /midjourney/seed {image_id}` answers `{seed}` at once (AceDataCloud/APIs
// midjourney/docs/midjourney_seed_api_integration_guide.md; AceDataCloud/SDK midjourney.seed(image_id)).
import { ANIMATE_ACTIONS, EDIT_ACTIONS, EXTEND_ACTIONS, GRID_ACTIONS, INTERNAL_ACTIONS, SHORTEN_PICKS, VIDEO_PICKS, isVideoAction, videoMotion, videoPickIndex, type InternalAction } from './actions.ts';
import { AceDataStreams, STREAM_ID_PREFIX, type StreamState } from './acedata-stream.ts';
import { UpstreamHttp, type RelayConnection } from './http.ts';
import { clampPercent, isRecord, namesByAction, relayAction, str, strOrNumber, urlsOf, withMotion } from './parse.ts';
import {
  UpstreamAccountError,
  UpstreamRejected,
  BLEND_RATIO,
  type AnimateRequest,
  type Capabilities,
  type InpaintRequest,
  type InputImage,
  type ParentRef,
  type Provider,
  type ShortenRequest,
  type Submitted,
  type SubmitRequest,
  type UpstreamJob,
} from './provider.ts';

// AceData's action names → ours. The stream example in its docs says `upsample1`, the JSON examples `upscale1`.
const NAMED: Record<string, InternalAction> = {
  reroll: 'reroll',
  variation_subtle: 'vary:subtle',
  variation_strong: 'vary:strong',
  zoom_out_2x: 'zoom:2',
  zoom_out_1_5x: 'zoom:1.5',
  pan_left: 'pan:left',
  pan_right: 'pan:right',
  pan_up: 'pan:up',
  pan_down: 'pan:down',
  upscale_2x: 'upscale:2x',
  upscale_4x: 'upscale:4x',
  upscale_subtle: 'upscale:subtle',
  upscale_creative: 'upscale:creative',
};

export function aceActionToInternal(name: string): InternalAction | undefined {
  return relayAction(name, /^(upscale|upsample|variation)([1-4])$/, NAMED);
}

/** What we send for an action when the parent did not record AceData's own name for it. */
function defaultAceName(action: InternalAction): string {
  const m = /^(upscale|variation):([1-4])$/.exec(action);
  if (m) return `${m[1]}${m[2]}`;
  return Object.entries(NAMED).find(([, a]) => a === action)![0];
}

/**
 * Normalises one AceData result object: the blocking/callback result, a stream line, or a task's `response`.
 * `id` is the upstream id the core knows the job by.
 */
export function parseAceResult(body: unknown, id: string | undefined, resolve: (url: string) => string, video = false): UpstreamJob | undefined {
  if (!isRecord(body)) return undefined;
  const upstreamId = id ?? str(body.task_id);
  if (!upstreamId) return undefined;
  if (body.success === false || isRecord(body.error)) {
    const error = isRecord(body.error) ? body.error : {};
    return { upstreamId, status: 'failed', failReason: str(error.message) ?? str(error.code) ?? 'errors.upstreamNoReason' };
  }
  const progress = typeof body.progress === 'number' ? clampPercent(body.progress) : undefined;
  // A video result is told by its fields wherever it comes from (a callback names no endpoint).
  if (video || Array.isArray(body.video_urls) || str(body.video_id)) return parseAceVideo(body, upstreamId, progress, resolve);
  const imageUrl = str(body.image_url);
  // Stream lines carry no `success`; the last one is the one at 100%.
  const done = imageUrl !== undefined && (body.success === true || progress === 100);
  if (!done) {
    return { upstreamId, status: progress === undefined ? 'submitted' : 'running', progress, previewUrl: imageUrl && resolve(imageUrl) };
  }
  const names = namesByAction(body.actions, aceActionToInternal);
  const offered = new Set<InternalAction>(INTERNAL_ACTIONS.filter((a) => names[a]));
  // A single image (no U1–U4/V1–V4 among its actions) can be animated and edited: /midjourney/videos and
  // /midjourney/edits take any image URL.
  if (offered.size > 0 && !GRID_ACTIONS.some((a) => offered.has(a))) [...ANIMATE_ACTIONS, ...EDIT_ACTIONS].forEach((a) => offered.add(a));
  const actions = INTERNAL_ACTIONS.filter((a) => offered.has(a));
  const raw = str(body.raw_image_url);
  return {
    upstreamId,
    status: 'succeeded',
    progress: 100,
    // The thumbnail first (same picture, a quarter of the bytes); the full-size original after it.
    imageUrls: [imageUrl, ...(raw && raw !== imageUrl ? [raw] : [])].map(resolve),
    actions,
    // Vary (Region) is no InternalAction (it needs the editor's mask): kept apart, as the image offers it.
    upstreamData: { imageId: str(body.image_id), actionNames: names, ...(Array.isArray(body.actions) && body.actions.includes('variation_region') && { region: true }) },
  };
}

/**
 * A video job: running until its clips are listed; then four clips offer U1–U4 (picks, served without a call),
 * one clip (a pick) offers Extend, which needs the batch's `video_id` and the clip's index in it.
 */
function parseAceVideo(body: Record<string, unknown>, upstreamId: string, progress: number | undefined, resolve: (url: string) => string): UpstreamJob {
  const clips = urlsOf(body.video_urls).slice(0, VIDEO_PICKS.length).map(resolve);
  const finished = body.success === true || (progress === 100 && clips.length > 0);
  if (!finished) return { upstreamId, status: progress === undefined ? 'submitted' : 'running', progress };
  if (clips.length === 0) return { upstreamId, status: 'failed', failReason: 'video:errors.notVideo' };
  const videoId = str(body.video_id) ?? (typeof body.video_id === 'number' ? String(body.video_id) : undefined);
  if (clips.length === 1) {
    return { upstreamId, status: 'succeeded', progress: 100, imageUrls: clips, actions: videoId ? [...EXTEND_ACTIONS] : [], upstreamData: { video: { videoId, index: 0 } } };
  }
  return { upstreamId, status: 'succeeded', progress: 100, imageUrls: clips, actions: VIDEO_PICKS.slice(0, clips.length), upstreamData: { videoId, clips } };
}

/** A pick's job id: the clip and where it came from, encoded (no AceData call; it survives a restart). */
const CLIP_ID_PREFIX = 'ace-clip-';

interface ClipRef {
  url: string;
  videoId?: string;
  index: number;
}

function decodeClip(encoded: string): ClipRef | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return isRecord(value) && typeof value.url === 'string' && typeof value.index === 'number' ? { url: value.url, videoId: str(value.videoId), index: value.index } : undefined;
  } catch {
    return undefined;
  }
}

/** One entry of `/midjourney/tasks`: `{id, request, response?}`; no response yet means still running. */
export function parseAceTask(item: unknown, resolve: (url: string) => string): UpstreamJob | undefined {
  if (!isRecord(item)) return undefined;
  const id = str(item.id) ?? str(item.task_id) ?? (isRecord(item.response) ? str(item.response.task_id) : undefined);
  if (!id) return undefined;
  if (!isRecord(item.response)) return { upstreamId: id, status: 'submitted' };
  const video = /video/i.test(str(item.type) ?? '');
  return parseAceResult(item.response, id, resolve, video);
}

/** retrieve_batch answers `{items: [...], count}`; accept a bare array or `data` too. */
function batchItems(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (!isRecord(body)) return [];
  for (const key of ['items', 'data', 'tasks']) if (Array.isArray(body[key])) return body[key] as unknown[];
  return [];
}

/** AceData reports errors as `{success:false, error:{code, message}}`, sometimes with HTTP 200. */
function throwIfRefused(path: string, status: number, body: unknown): void {
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  if (status < 400 && !error && !(isRecord(body) && body.success === false)) return;
  if (status === 404 && !error) throw new UpstreamAccountError('unavailable', `${path}: HTTP 404 (check UPSTREAM_BASE_URL)`);
  const code = str(error?.code);
  const message = str(error?.message) ?? code ?? `HTTP ${status}`;
  if (code === 'invalid_token' || code === 'token_mismatched') throw new UpstreamAccountError('auth', `${path}: ${message}`);
  if (code === 'used_up' || code === 'insufficient_balance') throw new UpstreamAccountError('balance', `${path}: ${message}`);
  if (code === 'too_many_requests') throw new UpstreamAccountError('rate_limited', `${path}: ${message}`);
  if (code === 'api_error' || code === 'timeout') throw new UpstreamAccountError('unavailable', `${path}: ${message}`);
  throw new UpstreamRejected(message);
}

/** A describe or shorten job's id: its (already known) result, encoded. */
const DESCRIBE_ID_PREFIX = 'ace-describe-';
const SHORTEN_ID_PREFIX = 'ace-shorten-';
const ANSWERED = [DESCRIBE_ID_PREFIX, SHORTEN_ID_PREFIX];
const answeredPrefix = (id: string) => ANSWERED.find((p) => id.startsWith(p));

/** Prompts from an answer's list: strings (the docs), or `{prompt}`/`{text}` objects (read defensively). */
function promptsOf(list: unknown): string[] {
  return (Array.isArray(list) ? list : [])
    .map((p) => (isRecord(p) ? str(p.prompt) ?? str(p.text) : str(p)))
    .filter((p): p is string => p !== undefined && p.trim() !== '')
    .map((p) => p.trim());
}

function decodeDescriptions(encoded: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return Array.isArray(value) && value.length > 0 && value.every((d) => typeof d === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Image prompts are URLs before the text. */
function withImages(images: InputImage[] | undefined, text: string): string {
  return [...(images ?? []).map((i) => i.url), text].join(' ');
}

export interface AceDataOptions {
  /** A stream silent this long is given up. */
  streamIdleMs?: number;
  /** How long a finished stream is remembered for fetch(). */
  streamKeepMs?: number;
  /** Per request (not per stream). */
  timeoutMs?: number;
}

export class AceDataProvider implements Provider {
  readonly id = 'acedata' as const;
  readonly capabilities: Capabilities = {
    // Video through /midjourney/videos: Animate on single images, picks of a batch, Extend of a pick; ✏️ Edit on
    // single images through /midjourney/edits.
    actions: INTERNAL_ACTIONS.filter((a) => a !== 'zoom:custom'),
    push: true,
    batchFetch: true,
    progress: true,
    // Previews come with the ndjson stream (polling mode); callbacks carry the final result only.
    previews: true,
    // Images go as URLs (Discord's CDN) before the text; blend is 2–5 URLs then the shape; describe has its own endpoint.
    blend: true,
    describe: true,
    imagePrompts: true,
    // Vary (Region): `variation_region` on the image's image_id, with the mask (see inpaint).
    inpaint: true,
    // /midjourney/shorten answers the shortened prompts at once.
    shorten: true,
    // /animate: /midjourney/videos takes any image's URL (`animate` below).
    animateImages: true,
    // /midjourney/videos requires `prompt` (AceData's MCP tools).
    animateNeedsPrompt: true,
    // 📋 through /midjourney/seed with the result's image_id (`seed` below).
    seed: true,
  };
  private readonly http: UpstreamHttp;
  private readonly streams = new AceDataStreams();
  private readonly resolve = (url: string) => this.http.resolve(url);

  static create(relay: RelayConnection): AceDataProvider {
    return new AceDataProvider(relay.baseUrl, relay.apiKey, { timeoutMs: relay.timeoutMs });
  }

  constructor(
    baseUrl: string,
    private readonly apiKey: string,
    private readonly opts: AceDataOptions = {},
  ) {
    this.http = new UpstreamHttp(baseUrl, { authorization: `Bearer ${apiKey}` }, opts.timeoutMs);
  }

  async submit(req: SubmitRequest): Promise<Submitted> {
    if (req.kind === 'describe') return this.describe(req.image);
    if (req.kind === 'action' && isVideoAction(req.action)) return this.submitVideo(req.action, req.parent, req.prompt, req.callbackUrl);
    if (req.kind === 'action' && req.action === 'edit') return this.edit(req.parent, req.prompt ?? req.parent.prompt, req.callbackUrl);
    const prompt = req.kind === 'blend' ? withImages(req.images, `--ar ${BLEND_RATIO[req.dimensions]}`) : req.kind === 'imagine' ? withImages(req.images, req.prompt) : undefined;
    // AceData takes the speed mode as a field (fast, relax, turbo).
    const body: Record<string, unknown> = { action: 'generate', prompt, ...(req.kind !== 'action' && req.mode && { mode: req.mode }) };
    if (req.kind === 'action') {
      const data = req.parent.upstreamData ?? {};
      const imageId = str(data.imageId);
      if (!imageId) throw new UpstreamRejected('errors.expired');
      const names = isRecord(data.actionNames) ? data.actionNames : {};
      delete body.prompt;
      body.action = str(names[req.action]) ?? defaultAceName(req.action);
      body.image_id = imageId;
    }
    return this.start('midjourney/imagine', body, req.callbackUrl);
  }

  /**
   * Starts a long job: with a callback AceData answers `{task_id}` at once; without one the request is streamed
   * (ndjson) in the background and the job known by the stream's id.
   */
  private async start(path: string, body: Record<string, unknown>, callbackUrl: string | undefined, video = false): Promise<Submitted> {
    if (!callbackUrl) {
      const upstreamId = await this.streams.open({
        url: this.http.resolve(path),
        path: `/${path}`,
        video,
        headers: { authorization: `Bearer ${this.apiKey}` },
        body,
        idleMs: this.opts.streamIdleMs ?? 10 * 60_000,
        keepMs: this.opts.streamKeepMs ?? 30 * 60_000,
      });
      return { upstreamId };
    }
    const res = await this.http.json<unknown>(path, { body: { ...body, callback_url: callbackUrl } });
    throwIfRefused(`/${path}`, res.status, res.body);
    const taskId = isRecord(res.body) ? str(res.body.task_id) : undefined;
    if (!taskId) throw new UpstreamAccountError('unavailable', `/${path}: answer without a task_id`);
    return { upstreamId: taskId };
  }

  /**
   * Animate posts the image (its full-size original when known) to /midjourney/videos (a batch of four); a pick
   * makes no call (the batch listed every clip); Extend continues one clip of a batch (`video_id`, `video_index`).
   * Video takes no relax mode, so none is sent (AceData's default is fast).
   */
  private async submitVideo(action: InternalAction, parent: ParentRef, prompt: string | undefined, callbackUrl: string | undefined): Promise<Submitted> {
    const data = parent.upstreamData ?? {};
    const pick = videoPickIndex(action);
    if (pick) {
      const clips = Array.isArray(data.clips) ? data.clips.filter((c): c is string => typeof c === 'string') : parent.imageUrls;
      const url = clips[pick - 1];
      if (!url) throw new UpstreamRejected('errors.actionUnavailable');
      const clip: ClipRef = { url, videoId: str(data.videoId), index: pick - 1 };
      return { upstreamId: CLIP_ID_PREFIX + Buffer.from(JSON.stringify(clip)).toString('base64url'), upstreamData: { video: { videoId: clip.videoId, index: clip.index } } };
    }
    const motion = isVideoAction(action) ? videoMotion(action) : undefined;
    if (!motion) throw new UpstreamRejected('errors.actionUnavailable');
    if ((ANIMATE_ACTIONS as readonly string[]).includes(action)) {
      const imageUrl = parent.imageUrls[1] ?? parent.imageUrls[0];
      if (!imageUrl) throw new UpstreamRejected('errors.expired');
      return this.start('midjourney/videos', { action: 'generate', prompt: withMotion(prompt ?? parent.prompt, motion), image_url: imageUrl }, callbackUrl, true);
    }
    const video = isRecord(data.video) ? data.video : {};
    const videoId = str(video.videoId);
    if (!videoId || typeof video.index !== 'number') throw new UpstreamRejected('errors.actionUnavailable');
    const body = { action: 'extend', prompt: withMotion(parent.prompt, motion), video_id: videoId, video_index: video.index };
    return this.start('midjourney/videos', body, callbackUrl, true);
  }

  /**
   * /animate: the attachment's link as `image_url` to /midjourney/videos `generate`, an end image as
   * `end_image_url`, `loop` as documented. AceData requires a prompt (its MCP tools: "prompt required"), so a job
   * without a motion prompt is refused with a sentence saying to add one.
   */
  async animate(req: AnimateRequest): Promise<Submitted> {
    if (!req.prompt.trim()) throw new UpstreamRejected('video:errors.promptRequired');
    const body = { action: 'generate', prompt: withMotion(req.prompt, req.motion), image_url: req.image.url, ...(req.endImage && { end_image_url: req.endImage.url }), ...(req.loop && { loop: true }) };
    return this.start('midjourney/videos', body, req.callbackUrl, true);
  }

  /**
   * ✏️ Edit: `POST /midjourney/edits {action: "generate", image_url, prompt, callback_url?}` (AceDataCloud/APIs
   * midjourney/docs/midjourney_edits_api_integration_guide.md; openapi/midjourney.json) redraws the image to the
   * new prompt: a result like imagine's (image_id, and per the openapi example the grid's actions), streamed or
   * called back the same way.
   */
  private async edit(parent: ParentRef, prompt: string, callbackUrl: string | undefined): Promise<Submitted> {
    const imageUrl = parent.imageUrls[1] ?? parent.imageUrls[0];
    if (!imageUrl) throw new UpstreamRejected('errors.expired');
    return this.start('midjourney/edits', { action: 'generate', image_url: imageUrl, prompt }, callbackUrl);
  }

  /** Only images whose `actions` listed `variation_region` (upscales), and whose image_id is known. */
  inpaintable(upstreamData: Record<string, unknown> | null): boolean {
    return upstreamData?.region === true && str(upstreamData.imageId) !== undefined;
  }

  /**
   * Vary (Region): `POST /midjourney/imagine {action: "variation_region", image_id, mask, prompt}`. The mask goes as
   * a base64 PNG without a data: prefix, white = repaint (AceDataCloud/MidjourneyMCP tools/imagine_tools.py:
   * "Base64-encoded mask image for variation_region action. White areas indicate regions to regenerate"; the
   * openapi's description says "Mask image URL", so this is unconfirmed).
   */
  async inpaint(req: InpaintRequest): Promise<Submitted> {
    const imageId = str(req.parent.upstreamData?.imageId);
    if (!imageId || req.parent.upstreamData?.region !== true) throw new UpstreamRejected('errors.actionUnavailable');
    const body = { action: 'variation_region', image_id: imageId, mask: req.mask.toString('base64'), prompt: req.prompt };
    return this.start('midjourney/imagine', body, req.callbackUrl);
  }

  /**
   * `/midjourney/describe` answers at once with the four prompts: they are kept in the job id itself, so the job
   * "finishes" at the next poll and survives a restart.
   */
  private async describe(image: InputImage): Promise<Submitted> {
    const res = await this.http.json<unknown>('midjourney/describe', { body: { image_url: image.url } });
    throwIfRefused('/midjourney/describe', res.status, res.body);
    const descriptions = promptsOf(isRecord(res.body) ? res.body.descriptions : undefined);
    if (descriptions.length === 0) throw new UpstreamRejected('', 'no_description');
    return { upstreamId: DESCRIBE_ID_PREFIX + Buffer.from(JSON.stringify(descriptions)).toString('base64url') };
  }

  /**
   * /shorten: `POST /midjourney/shorten {prompt}` answers at once with `{prompts: [up to 5]}` (AceDataCloud/APIs
   * midjourney/docs/midjourney_shorten_api_integration_guide.md; MidjourneyMCP tools/shorten_tools.py). Kept in the
   * job id like describe's prompts; `descriptions` is read too, in case the answer names them so.
   */
  async shorten(req: ShortenRequest): Promise<Submitted> {
    const res = await this.http.json<unknown>('midjourney/shorten', { body: { prompt: req.prompt } });
    throwIfRefused('/midjourney/shorten', res.status, res.body);
    const body = isRecord(res.body) ? res.body : {};
    const prompts = promptsOf(body.prompts ?? body.descriptions).slice(0, SHORTEN_PICKS.length);
    if (prompts.length === 0) throw new UpstreamRejected('', 'no_description');
    return { upstreamId: SHORTEN_ID_PREFIX + Buffer.from(JSON.stringify(prompts)).toString('base64url') };
  }

  /**
   * 📋: `POST /midjourney/seed {image_id}` answers `{seed: "3849571023"}` at once (AceDataCloud/APIs
   * midjourney/docs/midjourney_seed_api_integration_guide.md: image_id as the imagine result names it); errors
   * like every AceData call (`{success: false, error}`, thrown). A result without an image_id (a video) has none
   * to tell; a seed that is not digits (a number is read too) is not one.
   */
  async seed(job: ParentRef): Promise<string | undefined> {
    const imageId = str(job.upstreamData?.imageId);
    if (!imageId) return undefined;
    const res = await this.http.json<unknown>('midjourney/seed', { body: { image_id: imageId } });
    throwIfRefused('/midjourney/seed', res.status, res.body);
    const seed = isRecord(res.body) ? strOrNumber(res.body.seed)?.trim() : undefined;
    return seed && /^\d+$/.test(seed) ? seed : undefined;
  }

  async fetch(ids: string[]): Promise<UpstreamJob[]> {
    const out: UpstreamJob[] = [];
    for (const id of ids.filter((i) => answeredPrefix(i))) {
      const descriptions = decodeDescriptions(id.slice(answeredPrefix(id)!.length));
      out.push(descriptions
        ? { upstreamId: id, status: 'succeeded', progress: 100, imageUrls: [], actions: [], descriptions }
        : { upstreamId: id, status: 'failed', failReason: 'errors.upstreamUnavailable' });
    }
    for (const id of ids.filter((i) => i.startsWith(CLIP_ID_PREFIX))) {
      const clip = decodeClip(id.slice(CLIP_ID_PREFIX.length));
      out.push(clip
        ? { upstreamId: id, status: 'succeeded', progress: 100, imageUrls: [clip.url], actions: clip.videoId ? [...EXTEND_ACTIONS] : [], upstreamData: { video: { videoId: clip.videoId, index: clip.index } } }
        : { upstreamId: id, status: 'failed', failReason: 'errors.upstreamUnavailable' });
    }
    ids = ids.filter((i) => !answeredPrefix(i) && !i.startsWith(CLIP_ID_PREFIX));
    const retrieve = new Map<string, string>(); // AceData task id → the id the core knows
    for (const id of ids) {
      if (!id.startsWith(STREAM_ID_PREFIX)) {
        retrieve.set(id, id);
        continue;
      }
      const state = this.streams.get(id);
      const job = state && this.fromStream(id, state);
      if (job) out.push(job);
      else if (state?.taskId) retrieve.set(state.taskId, id);
      // The stream is gone (this process restarted, or it broke off without a task id): nothing can finish it.
      else if (!state || state.ended) out.push({ upstreamId: id, status: 'failed', failReason: 'errors.upstreamUnavailable' });
    }
    const wanted = [...retrieve.keys()];
    for (let i = 0; i < wanted.length; i += 50) {
      const chunk = wanted.slice(i, i + 50);
      const res = await this.http.json<unknown>('midjourney/tasks', { body: { ids: chunk, action: 'retrieve_batch' } });
      throwIfRefused('/midjourney/tasks', res.status, res.body);
      for (const item of batchItems(res.body)) {
        const job = parseAceTask(item, this.resolve);
        const ours = job && retrieve.get(job.upstreamId);
        if (job && ours) out.push({ ...job, upstreamId: ours });
      }
    }
    return out;
  }

  /** The job as its stream shows it; undefined when the stream ended without a result worth reporting. */
  private fromStream(id: string, state: StreamState): UpstreamJob | undefined {
    const job = parseAceResult(state.latest ?? {}, id, this.resolve, state.video) ?? { upstreamId: id, status: 'submitted' as const };
    if (job.status === 'failed' || job.status === 'succeeded' || !state.ended) return job;
    return undefined;
  }

  parseWebhook(body: unknown): UpstreamJob | undefined {
    return parseAceResult(body, undefined, this.resolve);
  }
}

