// AceData Cloud (`UPSTREAM_PROVIDER=acedata`): one endpoint, `POST /midjourney/imagine`, for imagine and every
// action; an action names the parent's **image_id** (kept in upstreamData) and one of the parent's `actions`.
// Push: with `callback_url` AceData answers `{task_id}` at once and POSTs the final result later; polling
// (`POST /midjourney/tasks`, retrieve_batch) is the safety net. Without a callback the request would block until
// the image is done, so the adapter streams ndjson in the background instead and serves fetch() from it.
import { INTERNAL_ACTIONS, isVideoAction, type InternalAction } from './actions.ts';
import { AceDataStreams, STREAM_ID_PREFIX, type StreamState } from './acedata-stream.ts';
import { UpstreamHttp, type RelayConnection } from './http.ts';
import { clampPercent, isRecord, namesByAction, relayAction, str } from './parse.ts';
import {
  UpstreamAccountError,
  UpstreamRejected,
  BLEND_RATIO,
  type Capabilities,
  type InputImage,
  type Provider,
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
export function parseAceResult(body: unknown, id: string | undefined, resolve: (url: string) => string): UpstreamJob | undefined {
  if (!isRecord(body)) return undefined;
  const upstreamId = id ?? str(body.task_id);
  if (!upstreamId) return undefined;
  if (body.success === false || isRecord(body.error)) {
    const error = isRecord(body.error) ? body.error : {};
    return { upstreamId, status: 'failed', failReason: str(error.message) ?? str(error.code) ?? 'errors.upstreamNoReason' };
  }
  const imageUrl = str(body.image_url);
  const progress = typeof body.progress === 'number' ? clampPercent(body.progress) : undefined;
  // Stream lines carry no `success`; the last one is the one at 100%.
  const done = imageUrl !== undefined && (body.success === true || progress === 100);
  if (!done) {
    return { upstreamId, status: progress === undefined ? 'submitted' : 'running', progress, previewUrl: imageUrl && resolve(imageUrl) };
  }
  const names = namesByAction(body.actions, aceActionToInternal);
  const actions = INTERNAL_ACTIONS.filter((a) => names[a]);
  const raw = str(body.raw_image_url);
  return {
    upstreamId,
    status: 'succeeded',
    progress: 100,
    // The thumbnail first (same picture, a quarter of the bytes); the full-size original after it.
    imageUrls: [imageUrl, ...(raw && raw !== imageUrl ? [raw] : [])].map(resolve),
    actions,
    upstreamData: { imageId: str(body.image_id), actionNames: names },
  };
}

/** One entry of `/midjourney/tasks`: `{id, request, response?}`; no response yet means still running. */
export function parseAceTask(item: unknown, resolve: (url: string) => string): UpstreamJob | undefined {
  if (!isRecord(item)) return undefined;
  const id = str(item.id) ?? str(item.task_id) ?? (isRecord(item.response) ? str(item.response.task_id) : undefined);
  if (!id) return undefined;
  if (!isRecord(item.response)) return { upstreamId: id, status: 'submitted' };
  return parseAceResult(item.response, id, resolve);
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

/** A describe job's id: its (already known) result, encoded. */
const DESCRIBE_ID_PREFIX = 'ace-describe-';

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
    // No video yet: AceData's /midjourney/videos is not wired up.
    actions: INTERNAL_ACTIONS.filter((a) => a !== 'zoom:custom' && !isVideoAction(a)),
    push: true,
    batchFetch: true,
    progress: true,
    // Previews come with the ndjson stream (polling mode); callbacks carry the final result only.
    previews: true,
    // Images go as URLs (Discord's CDN) before the text; blend is 2–5 URLs then the shape; describe has its own endpoint.
    blend: true,
    describe: true,
    imagePrompts: true,
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
    if (!req.callbackUrl) {
      const upstreamId = await this.streams.open({
        url: this.http.resolve('midjourney/imagine'),
        headers: { authorization: `Bearer ${this.apiKey}` },
        body,
        idleMs: this.opts.streamIdleMs ?? 10 * 60_000,
        keepMs: this.opts.streamKeepMs ?? 30 * 60_000,
      });
      return { upstreamId };
    }
    body.callback_url = req.callbackUrl;
    const res = await this.http.json<unknown>('midjourney/imagine', { body });
    throwIfRefused('/midjourney/imagine', res.status, res.body);
    const taskId = isRecord(res.body) ? str(res.body.task_id) : undefined;
    if (!taskId) throw new UpstreamAccountError('unavailable', '/midjourney/imagine: answer without a task_id');
    return { upstreamId: taskId };
  }

  /**
   * `/midjourney/describe` answers at once with the four prompts: they are kept in the job id itself, so the job
   * "finishes" at the next poll and survives a restart.
   */
  private async describe(image: InputImage): Promise<Submitted> {
    const res = await this.http.json<unknown>('midjourney/describe', { body: { image_url: image.url } });
    throwIfRefused('/midjourney/describe', res.status, res.body);
    const raw = isRecord(res.body) && Array.isArray(res.body.descriptions) ? res.body.descriptions : [];
    const descriptions = raw.filter((d): d is string => typeof d === 'string' && d.trim() !== '').map((d) => d.trim());
    if (descriptions.length === 0) throw new UpstreamRejected('', 'no_description');
    return { upstreamId: DESCRIBE_ID_PREFIX + Buffer.from(JSON.stringify(descriptions)).toString('base64url') };
  }

  async fetch(ids: string[]): Promise<UpstreamJob[]> {
    const out: UpstreamJob[] = [];
    for (const id of ids.filter((i) => i.startsWith(DESCRIBE_ID_PREFIX))) {
      const descriptions = decodeDescriptions(id.slice(DESCRIBE_ID_PREFIX.length));
      out.push(descriptions
        ? { upstreamId: id, status: 'succeeded', progress: 100, imageUrls: [], actions: [], descriptions }
        : { upstreamId: id, status: 'failed', failReason: 'errors.upstreamUnavailable' });
    }
    ids = ids.filter((i) => !i.startsWith(DESCRIBE_ID_PREFIX));
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
    const job = parseAceResult(state.latest ?? {}, id, this.resolve) ?? { upstreamId: id, status: 'submitted' as const };
    if (job.status === 'failed' || job.status === 'succeeded' || !state.ended) return job;
    return undefined;
  }

  parseWebhook(body: unknown): UpstreamJob | undefined {
    return parseAceResult(body, undefined, this.resolve);
  }
}

