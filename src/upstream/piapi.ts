// PiAPI's unified task API (api.piapi.ai): every Midjourney job, imagine or action, is `POST /api/v1/task`
// with a `task_type`; actions name their parent by `origin_task_id`. A job's `output.actions` says what the
// user may do next. Pushes come through `config.webhook_config` (sent again on each status change).
import type { InternalAction } from './actions.ts';
import { UpstreamHttp, type RelayConnection } from './http.ts';
import { fetchEach, isRecord, percentOf } from './parse.ts';
import { UpstreamAccountError, UpstreamRejected, type Capabilities, type Provider, type SubmitRequest, type Submitted, type UpstreamJob } from './provider.ts';

/** The task object (`data` of the create/fetch replies and of each webhook). */
export interface PiapiTask {
  task_id: string;
  model?: string;
  task_type?: string;
  status?: string;
  input?: Record<string, unknown>;
  output?: {
    image_url?: string | null;
    image_urls?: string[] | null;
    temporary_image_urls?: string[] | null;
    discord_image_url?: string | null;
    actions?: string[] | null;
    progress?: number | string | null;
    intermediate_image_urls?: string[] | null;
  } | null;
  error?: { code?: number; raw_message?: string; message?: string; detail?: unknown } | null;
}

/** Our action → PiAPI's task_type and input (besides origin_task_id). */
const REQUESTS: Partial<Record<InternalAction, { task_type: string; input: Record<string, string> }>> = {
  'upscale:1': { task_type: 'upscale', input: { index: '1' } },
  'upscale:2': { task_type: 'upscale', input: { index: '2' } },
  'upscale:3': { task_type: 'upscale', input: { index: '3' } },
  'upscale:4': { task_type: 'upscale', input: { index: '4' } },
  reroll: { task_type: 'reroll', input: {} },
  'variation:1': { task_type: 'variation', input: { index: '1' } },
  'variation:2': { task_type: 'variation', input: { index: '2' } },
  'variation:3': { task_type: 'variation', input: { index: '3' } },
  'variation:4': { task_type: 'variation', input: { index: '4' } },
  'vary:strong': { task_type: 'variation', input: { index: 'high_variation' } },
  'vary:subtle': { task_type: 'variation', input: { index: 'low_variation' } },
  'zoom:2': { task_type: 'outpaint', input: { zoom_ratio: '2' } },
  'zoom:1.5': { task_type: 'outpaint', input: { zoom_ratio: '1.5' } },
  // Custom zoom needs a prompt from a modal; not offered by this adapter yet.
  'zoom:custom': undefined,
  'pan:left': { task_type: 'pan', input: { direction: 'left' } },
  'pan:right': { task_type: 'pan', input: { direction: 'right' } },
  'pan:up': { task_type: 'pan', input: { direction: 'up' } },
  'pan:down': { task_type: 'pan', input: { direction: 'down' } },
  'upscale:2x': { task_type: 'upscale', input: { index: '2x' } },
  'upscale:4x': { task_type: 'upscale', input: { index: '4x' } },
  'upscale:subtle': { task_type: 'upscale', input: { index: 'subtle' } },
  'upscale:creative': { task_type: 'upscale', input: { index: 'creative' } },
};

/**
 * PiAPI's action names (`output.actions`) → ours. Spellings vary between its docs and versions, so names are
 * compared without case and punctuation ("outpaint_1.5x" and "outpaint15x" are the same).
 */
const ACTION_NAMES: Record<string, InternalAction> = {
  upscale1: 'upscale:1', upscale2: 'upscale:2', upscale3: 'upscale:3', upscale4: 'upscale:4',
  variation1: 'variation:1', variation2: 'variation:2', variation3: 'variation:3', variation4: 'variation:4',
  reroll: 'reroll',
  highvariation: 'vary:strong', varystrong: 'vary:strong',
  lowvariation: 'vary:subtle', varysubtle: 'vary:subtle',
  outpaint2x: 'zoom:2', zoomout2x: 'zoom:2', outpaint2: 'zoom:2',
  outpaint15x: 'zoom:1.5', zoomout15x: 'zoom:1.5', outpaint15: 'zoom:1.5',
  panleft: 'pan:left', panright: 'pan:right', panup: 'pan:up', pandown: 'pan:down',
  upscale2x: 'upscale:2x', upscale4x: 'upscale:4x', upscalesubtle: 'upscale:subtle', upscalecreative: 'upscale:creative',
};

export function mapActions(names: readonly unknown[] | null | undefined): InternalAction[] {
  const out = new Set<InternalAction>();
  for (const name of names ?? []) {
    if (typeof name !== 'string') continue;
    const action = ACTION_NAMES[name.toLowerCase().replace(/[^a-z0-9]/g, '')];
    if (action && REQUESTS[action]) out.add(action);
  }
  return [...out];
}

/** The task out of `{code, data:{...}, message}` (REST) or `{timestamp, data:{...}}` (webhook). */
export function taskOf(body: unknown): PiapiTask | undefined {
  const data = isRecord(body) && isRecord(body.data) ? body.data : undefined;
  return data && typeof data.task_id === 'string' && data.task_id ? (data as unknown as PiapiTask) : undefined;
}

/** Why PiAPI refused a request: `message` of the reply, or `data.error.message`. */
function refusal(body: unknown): string {
  if (!isRecord(body)) return '';
  const err = isRecord(body.data) && isRecord(body.data.error) ? body.data.error : undefined;
  const parts = [err?.message, err?.raw_message, body.message].filter((p): p is string => typeof p === 'string' && p.trim() !== '');
  return parts[0] ?? '';
}

/** A refusal that is about the account (credits, quota, concurrency) rather than this prompt. */
function accountProblem(reason: string): UpstreamAccountError | undefined {
  if (/insufficient|credit|balance|quota/i.test(reason)) return new UpstreamAccountError('balance', `piapi: ${reason}`);
  if (/concurren|too many|queue/i.test(reason)) return new UpstreamAccountError('queue_full', `piapi: ${reason}`);
  if (/api.?key|unauthori[sz]ed|forbidden/i.test(reason)) return new UpstreamAccountError('auth', `piapi: ${reason}`);
  return undefined;
}

export class PiapiProvider implements Provider {
  readonly id = 'piapi' as const;
  readonly notice =
    'UPSTREAM_PROVIDER=piapi: PiAPI has discontinued its Midjourney API; existing accounts may stop working.';
  readonly capabilities: Capabilities = {
    actions: [...new Set(Object.values(ACTION_NAMES))].filter((a) => REQUESTS[a]),
    push: true,
    batchFetch: false,
    progress: true,
    previews: true,
    blend: false,
    describe: false,
  };

  constructor(private readonly http: UpstreamHttp) {}

  static create({ baseUrl, apiKey, timeoutMs }: RelayConnection): PiapiProvider {
    return new PiapiProvider(new UpstreamHttp(baseUrl, { 'x-api-key': apiKey }, timeoutMs));
  }

  async submit(req: SubmitRequest): Promise<Submitted> {
    let task_type = 'imagine';
    let input: Record<string, unknown>;
    // capabilities.blend/describe are false: the dispatcher never sends these; refuse clearly if it ever does.
    if (req.kind === 'blend' || req.kind === 'describe') throw new UpstreamRejected('images:errors.unsupported');
    // PiAPI names the speed mode process_mode.
    if (req.kind === 'imagine') input = { prompt: req.prompt, ...(req.mode && { process_mode: req.mode }) };
    else {
      const request = REQUESTS[req.action];
      if (!request) throw new UpstreamRejected('errors.actionUnavailable');
      task_type = request.task_type;
      input = { origin_task_id: req.parent.upstreamId, ...request.input };
      // PiAPI documents input.prompt as required for variation tasks: send this task's prompt, else the parent's.
      if (task_type === 'variation') input.prompt = req.prompt ?? req.parent.prompt;
    }
    const config = req.callbackUrl
      ? { webhook_config: { endpoint: req.callbackUrl, secret: callbackSecret(req.callbackUrl) } }
      : undefined;
    const { status, body } = await this.http.json('/api/v1/task', { body: { model: 'midjourney', task_type, input, ...(config && { config }) } });
    const task = taskOf(body);
    const code = isRecord(body) && typeof body.code === 'number' ? body.code : status;
    if (status < 400 && code < 400 && task) {
      if (task.status?.toLowerCase() === 'failed') throw new UpstreamRejected(refusal(body) || 'errors.upstreamNoReason');
      return { upstreamId: task.task_id };
    }
    if (status === 404) throw new UpstreamAccountError('unavailable', 'POST /api/v1/task: HTTP 404 (check UPSTREAM_BASE_URL)');
    const reason = refusal(body);
    const account = accountProblem(reason);
    if (account) throw account;
    if (reason) throw new UpstreamRejected(reason);
    throw new UpstreamAccountError('unavailable', `POST /api/v1/task: HTTP ${status} without a task`);
  }

  async fetch(ids: string[]): Promise<UpstreamJob[]> {
    // The unified API has no batch read: one GET per job, a few at a time.
    return fetchEach(ids, 4, async (id) => {
      const { status, body } = await this.http.json(`/api/v1/task/${encodeURIComponent(id)}`);
      const task = taskOf(body);
      // 404, or any other refusal of this one id: PiAPI does not know the job (any more). Account-wide
      // problems (401/403, 429, 5xx) were already thrown by the HTTP client and fail the whole read.
      return status >= 400 || !task ? undefined : this.toJob(task);
    });
  }

  /**
   * Cancels a job PiAPI has not started yet: it only cancels pending ones, so a job already drawing (or done)
   * is refused with PiAPI's reason.
   */
  async cancel(upstreamId: string): Promise<void> {
    const { status, body } = await this.http.json(`/api/v1/task/${encodeURIComponent(upstreamId)}`, { method: 'DELETE' });
    const code = isRecord(body) && typeof body.code === 'number' ? body.code : status;
    if (status < 400 && code < 400) return;
    throw new UpstreamRejected(refusal(body) || `DELETE /api/v1/task: HTTP ${status}`);
  }

  parseWebhook(body: unknown): UpstreamJob | undefined {
    const task = taskOf(body);
    return task ? this.toJob(task) : undefined;
  }

  toJob(task: PiapiTask): UpstreamJob {
    const upstreamId = task.task_id;
    const output = task.output ?? {};
    const known = percentOf(output.progress);
    switch (task.status?.toLowerCase()) {
      case 'completed': {
        // image_url is PiAPI's own copy; discord_image_url expires, so it is only the last resort.
        const image = output.image_url || output.discord_image_url;
        if (!image) return { upstreamId, status: 'failed', failReason: refusal({ data: task }) || undefined, failCode: refusal({ data: task }) ? undefined : 'no_image' };
        return { upstreamId, status: 'succeeded', progress: 100, imageUrls: [this.http.resolve(image)], actions: mapActions(output.actions) };
      }
      case 'failed':
        return { upstreamId, status: 'failed', failReason: refusal({ data: task }) || undefined };
      case 'processing': {
        const preview = output.image_url || output.discord_image_url || output.intermediate_image_urls?.at(-1);
        return { upstreamId, status: 'running', progress: known ?? 0, previewUrl: preview ? this.http.resolve(preview) : undefined };
      }
      default:
        // pending, staged (waiting for a slot in PiAPI's own queue), or an unknown status.
        return { upstreamId, status: 'submitted', progress: 0 };
    }
  }
}

/**
 * PiAPI sends `secret` back in an x-webhook-secret header. Our receiver authenticates by the unguessable token
 * already in the callback path, so the same token is the natural secret: nothing new is disclosed.
 */
function callbackSecret(callbackUrl: string): string {
  return new URL(callbackUrl).pathname.split('/').filter(Boolean).at(-1) ?? '';
}
