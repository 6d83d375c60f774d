// A fake Midjourney-node-api (souying) over real HTTP, shaped after its seed document and its express
// routes: `/api/v1/trigger/submit` (GET query or POST body), `/api/v1/task/fetch?_id=`, `/api/v1/task/list`,
// records with a bare-file-name `imageUrl` served from the relay's own origin, no authentication, no
// progress, and a notifyHook POSTed once with the final record (no retry).
//
//   const relay = await FakeMidjourneyNodeApi.start();
//   relay.failPrompt('broken');   relay.inject.serverErrors = 2;   relay.refuseNext = 1;
//   relay.holdActions('owl'); …; relay.releaseActions();   (with relay.mixesUpActions = true)
//
// `mixesUpActions` reproduces what running the real server against a fake Discord showed (recorded in the
// project's shared/reference/providers.md, "Midjourney-node-api, run for real"): it matches Midjourney's replies to
// its tasks by prompt, ignoring which button was clicked, so when two actions on one prompt are in flight the later
// one finishes with the earlier one's image. The real server may never correct that record; the fake, so that a
// test can see polling go on until a different image arrives, gives the record its own image `stepMs * 3` later.
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { FakeRelayServer, MjRelayFake, fakeHash, sendImage, sendJson, type SeenRequest } from './fake-mj-common.ts';

export interface NodeApiRecordJson {
  _id: string;
  index: string;
  action: string;
  prompt: string;
  promptEn: string;
  taskId: string;
  uri: string;
  hash: string;
  content: string;
  progress: string;
  description: string;
  submitTime: number | string;
  finishTime: number | string;
  creationTime: number;
  state: string;
  notifyHook: string;
  imageUrl: string;
  status: 'NOT_START' | 'IN_PROGRESS' | 'SUCCESS' | 'FAILURE';
}

export interface FakeMidjourneyNodeApiOptions {
  /** Time between two states of a task. */
  stepMs?: number;
}

export class FakeMidjourneyNodeApi extends MjRelayFake {
  readonly records = new Map<string, NodeApiRecordJson>();
  /** The next N submissions answer `{code: 0, description: "失败"}`. */
  refuseNext = 0;
  /** Drop every notifyHook call. */
  silent = false;
  private readonly failing: string[] = [];
  /** See the header. */
  mixesUpActions = false;
  /** A record was given another action's image (the mix-up happened). */
  sawMixUp = false;
  /** Paths of the images fetched from the relay (the shared request log leaves images out). */
  readonly imageFetches: string[] = [];
  private readonly heldActions: string[] = [];
  private readonly waiting: Array<() => void> = [];

  private constructor(
    readonly server: FakeRelayServer,
    private readonly stepMs: number,
  ) {
    super();
  }

  static async start(options: FakeMidjourneyNodeApiOptions = {}): Promise<FakeMidjourneyNodeApi> {
    return MjRelayFake.serve((server) => new FakeMidjourneyNodeApi(server, options.stepMs ?? 150));
  }

  /** Jobs whose prompt contains `substring` end in FAILURE (the relay keeps no reason). */
  failPrompt(substring: string): void {
    this.failing.push(substring);
  }

  /** UPSCALE / VARIATION records on a prompt containing `substring` stay IN_PROGRESS until releaseActions(). */
  holdActions(substring: string): void {
    this.heldActions.push(substring);
  }

  /** Finishes the held actions one step apart, in the order they were submitted. */
  releaseActions(): void {
    this.heldActions.length = 0;
    this.waiting.splice(0).forEach((finish, i) => this.server.later(this.stepMs * (i + 1), finish));
  }

  protected route(req: SeenRequest, res: ServerResponse): Promise<void> | void {
    // express.static serves the downloaded images from the relay's root.
    if (req.method === 'GET' && /^\/[\w-]+\.png$/.test(req.path)) {
      this.imageFetches.push(req.path);
      const known = [...this.records.values()].some((r) => `/${r.imageUrl}` === req.path);
      return known ? sendImage(res, req.path, 256, req.path.includes('single') ? 384 : 256) : sendJson(res, 404, { error: 'not found' });
    }
    // express routes with router.all: GET query or POST body (JSON or urlencoded) alike.
    const params = { ...req.query, ...(typeof req.body === 'object' && req.body ? (req.body as Record<string, string>) : {}) };
    if (req.path === '/api/v1/trigger/submit') return sendJson(res, 200, this.submit(params));
    if (req.path === '/api/v1/task/fetch') {
      // The relay reads `_id` from the query (its body branch checks `id`, a known bug).
      const record = this.records.get(req.query._id ?? '');
      return record ? sendJson(res, 200, record) : sendJson(res, 400, { code: 0 });
    }
    if (req.path === '/api/v1/task/list') return sendJson(res, 200, [...this.records.values()]);
    return sendJson(res, 404, { error: 'Not Found' });
  }

  private submit(p: Record<string, string>) {
    if (this.refuseNext > 0) {
      this.refuseNext--;
      return { code: 0, description: '失败' };
    }
    const action = String(p.action ?? '');
    const record: NodeApiRecordJson = {
      _id: randomUUID(),
      index: p.index ? String(p.index) : '',
      action,
      prompt: p.prompt ?? '',
      promptEn: p.prompt ?? '',
      taskId: p.taskId ?? '',
      uri: '',
      hash: '',
      content: '',
      progress: '',
      description: `/imagine ${p.prompt ?? ''}`,
      submitTime: '',
      finishTime: '',
      creationTime: Date.now(),
      state: p.state ?? '',
      notifyHook: p.notifyHook ?? '',
      imageUrl: '',
      status: 'NOT_START',
    };
    this.records.set(record._id, record);
    this.server.later(this.stepMs, () => this.run(record));
    return { code: 1, description: '成功', result: record._id };
  }

  /** NOT_START → IN_PROGRESS → SUCCESS | FAILURE; the notifyHook hears only the end. */
  private run(record: NodeApiRecordJson): void {
    Object.assign(record, { status: 'IN_PROGRESS', submitTime: Date.now() });
    const parent = record.taskId ? this.records.get(record.taskId) : undefined;
    const valid =
      record.action === 'IMAGINE' ? Boolean(record.prompt) : ['UPSCALE', 'VARIATION'].includes(record.action) && parent?.status === 'SUCCESS' && /^[1-4]$/.test(record.index);
    const fails = !valid || this.failing.some((s) => (parent?.prompt ?? record.prompt).includes(s));
    const prompt = parent?.prompt ?? record.prompt;
    const finish = () => {
      if (fails) Object.assign(record, { status: 'FAILURE', finishTime: Date.now() });
      else {
        const hash = fakeHash(record._id);
        const file = `${hash}${record.action === 'UPSCALE' ? '-single' : ''}.png`;
        // The earlier action on the same prompt that finished while this one was in flight: its image comes back.
        const mixedUp = this.mixesUpActions && record.action !== 'IMAGINE'
          ? [...this.records.values()].find((r) => r !== record && r.action !== 'IMAGINE' && r.status === 'SUCCESS' && r.promptEn === prompt && Number(r.finishTime) >= Number(record.submitTime))
          : undefined;
        Object.assign(record, {
          status: 'SUCCESS',
          finishTime: Date.now(),
          taskId: String(1108302168013938689n + BigInt(this.records.size)),
          uri: file,
          imageUrl: mixedUp?.imageUrl ?? file,
          hash,
          content: `${record.promptEn} --seed 5587`,
          progress: 'done',
        });
        if (mixedUp) this.sawMixUp = true;
        if (mixedUp) this.server.later(this.stepMs * 3, () => Object.assign(record, { uri: file, imageUrl: file }));
      }
      if (record.notifyHook && !this.silent) this.server.push(record.notifyHook, record);
    };
    if (record.action !== 'IMAGINE' && this.heldActions.some((s) => prompt.includes(s))) this.waiting.push(finish);
    else this.server.later(this.stepMs * 2, finish);
  }
}
