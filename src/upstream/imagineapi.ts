// ImagineAPI (imagineapi.dev): a Directus collection of images. One endpoint creates a job, one reads it; a
// finished job carries the 2×2 grid (`url`) and the four single images (`upscaled_urls`). There are no action
// endpoints, so U1–U4 are served from those four URLs without an upstream call, 🔄 submits the prompt again,
// and variations are not offered. Its webhook is one per account, set in its dashboard, so it cannot carry
// our per-task callback token: no per-job callback URL is sent (`push: false`); pushes arrive at the
// account-wide route (UPSTREAM_WEBHOOK_SECRET) and go through parseWebhook; polling always runs.
import { actionIndex, type InternalAction } from './actions.ts';
import { UpstreamHttp, type RelayConnection } from './http.ts';
import { fetchEach, isRecord, percentOf, withModeParam } from './parse.ts';
import { UpstreamAccountError, UpstreamRejected, type Capabilities, type Provider, type SubmitRequest, type Submitted, type UpstreamJob } from './provider.ts';

/** The image record, as `GET /items/images/{id}` and the webhook's `payload` carry it. */
export interface ImagineApiImage {
  id: string;
  prompt?: string | null;
  status?: string | null;
  progress?: number | string | null;
  url?: string | null;
  error?: string | null;
  upscaled_urls?: string[] | null;
  upscaled?: string[] | null;
  ref?: string | null;
}

/** All it can do: pick one of the four images, or draw the prompt again. */
const OFFERED: InternalAction[] = ['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll'];

/**
 * U1–U4 need no upstream job: the id names the single image itself, so `fetch` can answer from the id alone
 * (it is never shown to users; buttons carry only our task id).
 */
const SINGLE_PREFIX = 'upscaled:';
const singleId = (parentId: string, index: number, url: string) =>
  `${SINGLE_PREFIX}${parentId}:${index}:${Buffer.from(url).toString('base64url')}`;
function parseSingleId(id: string): string | undefined {
  const m = /^upscaled:[^:]+:[1-4]:([A-Za-z0-9_-]+)$/.exec(id);
  return m ? Buffer.from(m[1]!, 'base64url').toString('utf8') : undefined;
}

/** Directus reports errors as `{errors:[{message, extensions:{code}}]}`. */
function directusError(body: unknown): string | undefined {
  const errors = (body as { errors?: Array<{ message?: unknown }> } | undefined)?.errors;
  const message = Array.isArray(errors) ? errors.map((e) => e?.message).filter((m) => typeof m === 'string').join('; ') : '';
  return message || undefined;
}

/** Reads an image record out of `{data:{...}}` (REST) or `{event, payload:{...}}` (webhook). */
export function imageRecord(body: unknown): ImagineApiImage | undefined {
  if (!isRecord(body)) return undefined;
  const inner = isRecord(body.data) ? body.data : isRecord(body.payload) ? body.payload : undefined;
  if (!inner || typeof inner.id !== 'string' || !inner.id) return undefined;
  return inner as unknown as ImagineApiImage;
}

export class ImagineApiProvider implements Provider {
  readonly id = 'imagineapi' as const;
  readonly capabilities: Capabilities = {
    actions: OFFERED,
    push: false,
    batchFetch: false,
    // `progress` is a number while Midjourney draws (null before and, per the docs, often after).
    progress: true,
    // While in progress `url` holds Midjourney's partial image.
    previews: true,
    blend: false,
    describe: false,
    // 🔄 is a new imagine: it takes whatever prompt the task carries (remix).
    remix: ['reroll'],
  };

  constructor(private readonly http: UpstreamHttp) {}

  static create({ baseUrl, apiKey, timeoutMs }: RelayConnection): ImagineApiProvider {
    return new ImagineApiProvider(new UpstreamHttp(baseUrl, { authorization: `Bearer ${apiKey}` }, timeoutMs));
  }

  async submit(req: SubmitRequest): Promise<Submitted> {
    // capabilities.blend/describe are false: the dispatcher never sends these; refuse clearly if it ever does.
    if (req.kind === 'blend' || req.kind === 'describe') throw new UpstreamRejected('images:errors.unsupported');
    if (req.kind === 'imagine') return this.create(withModeParam(req.prompt, req.mode), req.taskId);
    const { action, parent } = req;
    if (action === 'reroll') return this.create(req.prompt ?? parent.prompt, req.taskId);
    const index = actionIndex(action);
    if (action.startsWith('upscale:') && index) {
      const urls = parent.upstreamData?.upscaledUrls;
      const url = Array.isArray(urls) ? urls[index - 1] : undefined;
      if (typeof url !== 'string' || !url) throw new UpstreamRejected('errors.actionUnavailable');
      return { upstreamId: singleId(parent.upstreamId, index, url) };
    }
    throw new UpstreamRejected('errors.actionUnavailable');
  }

  private async create(prompt: string, taskId: string): Promise<Submitted> {
    // `ref` is ImagineAPI's free-form reference: our task id, so its dashboard can be matched with our logs.
    const { status, body } = await this.http.json('/items/images/', { body: { prompt, ref: taskId } });
    if (status >= 400) {
      const reason = directusError(body);
      if (status === 404) throw new UpstreamAccountError('unavailable', `POST /items/images/: HTTP 404 (check UPSTREAM_BASE_URL)`);
      if (reason) throw new UpstreamRejected(reason);
      throw new UpstreamAccountError('unavailable', `POST /items/images/: HTTP ${status}`);
    }
    const image = imageRecord(body);
    if (!image) throw new UpstreamAccountError('unavailable', 'POST /items/images/: the reply has no data.id');
    return { upstreamId: image.id };
  }

  async fetch(ids: string[]): Promise<UpstreamJob[]> {
    // No batch endpoint is documented: one GET per job, a few at a time.
    let forbidden: UpstreamAccountError | undefined;
    let readable = 0;
    const out = await fetchEach(ids, 4, async (id) => {
      try {
        const job = await this.fetchOne(id);
        readable++;
        return job;
      } catch (err) {
        // Directus answers 403 both for a bad key and for an item that no longer exists.
        if (err instanceof UpstreamAccountError && err.kind === 'auth') forbidden = err;
        else throw err;
        return undefined;
      }
    });
    // Every read refused: that is the key, not the items.
    if (forbidden && readable === 0) throw forbidden;
    return out;
  }

  private async fetchOne(upstreamId: string): Promise<UpstreamJob | undefined> {
    if (upstreamId.startsWith(SINGLE_PREFIX)) {
      const url = parseSingleId(upstreamId);
      return url ? { upstreamId, status: 'succeeded', progress: 100, imageUrls: [this.http.resolve(url)], actions: [] } : undefined;
    }
    const { status, body } = await this.http.json(`/items/images/${encodeURIComponent(upstreamId)}`);
    // 404 or another refusal of this one id: ImagineAPI does not know the image (any more).
    if (status >= 400) return undefined;
    const image = imageRecord(body);
    return image ? this.toJob(image) : undefined;
  }

  parseWebhook(body: unknown): UpstreamJob | undefined {
    const image = imageRecord(body);
    return image ? this.toJob(image) : undefined;
  }

  /** Normalises one image record (public so contract tests can feed it the documented replies). */
  toJob(image: ImagineApiImage): UpstreamJob {
    const upstreamId = image.id;
    const known = percentOf(image.progress);
    switch (image.status) {
      case 'completed': {
        if (!image.url) return { upstreamId, status: 'failed', failCode: 'no_image' };
        const singles = (image.upscaled_urls ?? []).filter((u): u is string => typeof u === 'string' && u.length > 0).map((u) => this.http.resolve(u));
        // U buttons only for the single images that actually came back.
        const actions: InternalAction[] = [...OFFERED.filter((a) => { const i = actionIndex(a); return i !== undefined && i <= singles.length; }), 'reroll'];
        return {
          upstreamId,
          status: 'succeeded',
          progress: 100,
          imageUrls: [this.http.resolve(image.url), ...singles],
          actions,
          upstreamData: { upscaledUrls: singles },
        };
      }
      case 'failed':
        return { upstreamId, status: 'failed', failReason: image.error?.trim() || undefined };
      case 'in-progress':
        return { upstreamId, status: 'running', progress: known ?? 0, previewUrl: image.url ? this.http.resolve(image.url) : undefined };
      default:
        // pending, queued, or a status this adapter does not know yet: still waiting.
        return { upstreamId, status: 'submitted', progress: 0 };
    }
  }
}
