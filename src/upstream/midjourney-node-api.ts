// Midjourney-node-api (souying): a small self-hosted Node relay. One submit endpoint for IMAGINE and for
// UPSCALE / VARIATION of quadrant 1–4 (no reroll of its own: 🔄 submits IMAGINE again with the job's prompt;
// nothing after an upscale), no authentication, no progress (a job is waiting, running or done), notifyHook called
// once with the final record, and image URLs that may be bare file names served from the relay's own origin.
// It translates Chinese prompts itself (Baidu, configured on the relay), so the bot never warns about translation.
//
// Run for real, it matches Midjourney's messages to its tasks by prompt, ignoring which button was clicked: with
// two actions on one prompt in flight, the later one may finish with the earlier one's image. A U/V result whose
// image another U/V record showed first is therefore reported as still running (polling goes on until a
// different image or the timeout). The first record to show an image owns it: learnt from `/api/v1/task/list`
// (by submit time) whenever a U/V result appears, and from pushed results in between.
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
  submitTime?: number | string | null;
  creationTime?: number | null;
}

const STATUS: Record<string, UpstreamStatus> = {
  NOT_START: 'submitted',
  IN_PROGRESS: 'running',
  SUCCESS: 'succeeded',
  FAILURE: 'failed',
};

/** What a grid (an IMAGINE or a VARIATION result) offers here: U and V of each quadrant, nothing else. */
const GRID: InternalAction[] = ['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll', 'variation:1', 'variation:2', 'variation:3', 'variation:4'];

/** How many result images' first owners are remembered between list calls (pushes in between are checked against them). */
const OWNERS_MAX = 2000;

const isAction = (r: NodeApiRecord) => ['UPSCALE', 'VARIATION'].includes(String(r.action ?? '').toUpperCase());
const isSuccess = (r: NodeApiRecord) => String(r.status ?? '').toUpperCase() === 'SUCCESS';
/** When the relay started the record (its ids are random UUIDs in some builds, so they say nothing of order). */
const startedAt = (r: NodeApiRecord) => Number(r.submitTime) || Number(r.creationTime) || Number.MAX_SAFE_INTEGER;

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
    translatesPrompts: true,
    // 🔄 is a new IMAGINE: it takes whatever prompt the task carries (remix).
    remix: ['reroll'],
  };

  /** A U/V result image → the record that showed it first (see the header). */
  private readonly imageOwner = new Map<string, string>();

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
    // No reroll here: the same prompt again is what Midjourney's 🔄 does.
    else if (req.action === 'reroll') body = { action: 'IMAGINE', prompt: req.prompt ?? req.parent.prompt, ...common };
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
      const list = await this.list();
      this.learnOwners(list);
      return list.map((r) => this.parseRecord(r)).filter((j): j is UpstreamJob => j !== undefined && wanted.has(j.upstreamId));
    }
    const records = await fetchEach(ids, ids.length, async (id) => {
      // An unknown id answers HTTP 400 `{code: 0}`.
      const res = await this.http.json<unknown>('api/v1/task/fetch', { query: { _id: id } });
      return res.status === 200 && res.body && typeof res.body === 'object' ? (res.body as NodeApiRecord) : undefined;
    });
    // A finished U/V: which record showed its image first is only known from all of them.
    if (records.some((r) => isAction(r) && isSuccess(r))) this.learnOwners(await this.list());
    return records.map((r) => this.parseRecord(r)).filter((j): j is UpstreamJob => j !== undefined);
  }

  private async list(): Promise<NodeApiRecord[]> {
    const res = await this.http.json<unknown>('api/v1/task/list');
    if (!Array.isArray(res.body)) throw new UpstreamAccountError('unavailable', `api/v1/task/list: HTTP ${res.status}, not a task list`);
    return res.body.filter((r): r is NodeApiRecord => Boolean(r) && typeof r === 'object');
  }

  /** Every U/V result image belongs to the record that started first among those showing it. */
  private learnOwners(records: NodeApiRecord[]): void {
    const done = records.filter((r) => isAction(r) && isSuccess(r) && r.imageUrl && typeof r._id === 'string').sort((a, b) => startedAt(a) - startedAt(b));
    const seen = new Set<string>();
    for (const r of done) {
      const url = this.http.resolve(r.imageUrl!);
      if (seen.has(url)) continue;
      seen.add(url);
      this.own(url, r._id!);
    }
  }

  private own(url: string, id: string): void {
    this.imageOwner.delete(url);
    this.imageOwner.set(url, id);
    if (this.imageOwner.size > OWNERS_MAX) this.imageOwner.delete(this.imageOwner.keys().next().value!);
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
    const image = this.http.resolve(record.imageUrl);
    if (isAction(record)) {
      // Another action's image (the relay's prompt matching mixed them up): not this job's result; keep polling.
      const owner = this.imageOwner.get(image);
      if (owner && owner !== upstreamId) return { upstreamId, status: 'running' };
      if (!owner) this.own(image, upstreamId);
    }
    const grid = String(record.action ?? '').toUpperCase() !== 'UPSCALE';
    return { upstreamId, status, progress: 100, imageUrls: [image], actions: grid ? [...GRID] : [] };
  }
}
