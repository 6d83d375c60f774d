// Midjourney-node-api (souying): a small self-hosted Node relay. One submit endpoint for IMAGINE and for
// UPSCALE / VARIATION of quadrant 1–4 (no reroll, nothing after an upscale), no authentication, no progress
// (a job is waiting, running or done), notifyHook called once with the final record, and image URLs that
// may be bare file names served from the relay's own origin.
import { UpstreamHttp, type RelayConnection } from './http.ts';
import { actionIndex, type InternalAction } from './actions.ts';
import { fetchEach, withModeParam } from './parse.ts';
import {
  UpstreamAccountError,
  UpstreamRejected,
  type Capabilities,
  type Provider,
  type SubmitRequest,
  type Submitted,
  type UpstreamJob,
  type UpstreamStatus,
} from './provider.ts';

/** A task record as `/api/v1/task/fetch`, `/api/v1/task/list` and the notifyHook return it. */
export interface NodeApiRecord {
  _id?: string;
  action?: string;
  status?: string;
  imageUrl?: string | null;
  progress?: string | null;
  failReason?: string | null;
}

const STATUS: Record<string, UpstreamStatus> = {
  NOT_START: 'submitted',
  IN_PROGRESS: 'running',
  SUCCESS: 'succeeded',
  FAILURE: 'failed',
};

/** What a grid (an IMAGINE or a VARIATION result) offers here: U and V of each quadrant, nothing else. */
const GRID: InternalAction[] = ['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'variation:1', 'variation:2', 'variation:3', 'variation:4'];

/** Up to this many running jobs are fetched one by one; beyond it one `/task/list` call (it returns every record) is cheaper. */
const SINGLE_FETCH_MAX = 4;

export class MidjourneyNodeApiProvider implements Provider {
  readonly id = 'midjourney-node-api' as const;
  readonly capabilities: Capabilities = {
    actions: GRID,
    push: true,
    batchFetch: true,
    progress: false,
    previews: false,
    blend: false,
    describe: false,
  };

  constructor(private readonly http: UpstreamHttp) {}

  static create({ baseUrl, timeoutMs }: Pick<RelayConnection, 'baseUrl' | 'timeoutMs'>): MidjourneyNodeApiProvider {
    return new MidjourneyNodeApiProvider(new UpstreamHttp(baseUrl, {}, timeoutMs));
  }

  async submit(req: SubmitRequest): Promise<Submitted> {
    const common = { state: req.taskId, ...(req.callbackUrl && { notifyHook: req.callbackUrl }) };
    let body: Record<string, unknown>;
    // capabilities.blend/describe are false: the dispatcher never sends these; refuse clearly if it ever does.
    if (req.kind === 'blend' || req.kind === 'describe') throw new UpstreamRejected('images:errors.unsupported');
    if (req.kind === 'imagine') body = { action: 'IMAGINE', prompt: withModeParam(req.prompt, req.mode), ...common };
    else {
      const index = actionIndex(req.action);
      const verb = req.action.startsWith('upscale:') ? 'UPSCALE' : req.action.startsWith('variation:') ? 'VARIATION' : undefined;
      if (!index || !verb) throw new UpstreamRejected('errors.actionUnavailable');
      // `prompt` is not needed for U/V, but the relay runs it through its translator when one is configured.
      body = { action: verb, taskId: req.parent.upstreamId, index: String(index), prompt: req.parent.prompt, ...common };
    }
    const res = await this.http.json<{ code?: number; description?: string; result?: unknown }>('api/v1/trigger/submit', { body });
    if (res.status === 404) throw new UpstreamAccountError('unavailable', 'api/v1/trigger/submit: HTTP 404 (check UPSTREAM_BASE_URL: it should be the relay\'s origin)');
    const result = res.body;
    if (!result || typeof result !== 'object') throw new UpstreamAccountError('unavailable', `midjourney-node-api: HTTP ${res.status} without a result`);
    if (result.code !== 1) throw new UpstreamRejected(result.description?.trim() || 'errors.upstreamNoReason');
    if (typeof result.result !== 'string' || !result.result) throw new UpstreamAccountError('unavailable', 'midjourney-node-api accepted the job without a task id');
    return { upstreamId: result.result };
  }

  async fetch(ids: string[]): Promise<UpstreamJob[]> {
    if (ids.length === 0) return [];
    if (ids.length > SINGLE_FETCH_MAX) {
      const wanted = new Set(ids);
      const res = await this.http.json<unknown>('api/v1/task/list');
      if (!Array.isArray(res.body)) throw new UpstreamAccountError('unavailable', `api/v1/task/list: HTTP ${res.status}, not a task list`);
      return res.body.map((r) => this.parseRecord(r)).filter((j): j is UpstreamJob => j !== undefined && wanted.has(j.upstreamId));
    }
    return fetchEach(ids, ids.length, async (id) => {
      // An unknown id answers HTTP 400 `{code: 0}`.
      const res = await this.http.json<unknown>('api/v1/task/fetch', { query: { _id: id } });
      return res.status === 200 ? this.parseRecord(res.body) : undefined;
    });
  }

  /** The notifyHook body is the task record itself, sent once on SUCCESS or FAILURE. */
  parseWebhook(body: unknown): UpstreamJob | undefined {
    return this.parseRecord(body);
  }

  parseRecord(raw: unknown): UpstreamJob | undefined {
    if (!raw || typeof raw !== 'object') return undefined;
    const record = raw as NodeApiRecord;
    if (typeof record._id !== 'string' || !record._id) return undefined;
    const upstreamId = record._id;
    const status = STATUS[String(record.status ?? '').toUpperCase()] ?? 'submitted';
    if (status === 'failed') {
      // The relay records no reason of its own; say so rather than blame the network.
      return { upstreamId, status, failReason: record.failReason?.trim() || 'errors.upstreamNoReason' };
    }
    if (status !== 'succeeded') return { upstreamId, status };
    if (!record.imageUrl) return { upstreamId, status: 'failed', failCode: 'no_image' };
    const grid = String(record.action ?? '').toUpperCase() !== 'UPSCALE';
    return { upstreamId, status, progress: 100, imageUrls: [this.http.resolve(record.imageUrl)], actions: grid ? [...GRID] : [] };
  }
}
