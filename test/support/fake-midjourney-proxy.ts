// A fake midjourney-proxy speaking its wire format over real HTTP: the plus/trueai flavour (buttons with
// customIds, /mj/submit/action, /mj/submit/modal, list-by-condition) or, with `openSource`, the novicezk
// server (/mj/submit/change only, no buttons, no batch). Tasks advance on timers and, when submitted with a
// notifyHook, push the full task JSON on every change (no retry), as the real relay does. trueai-org's
// `POST /mj/task/{id}/cancel` stops an unfinished task (it ends as FAILURE); the open-source server has no such route.
//
//   const mj = await FakeMidjourneyProxy.start({ apiKey: 'k' });
//   mj.failPrompt('broken', 'Midjourney refused');   mj.inject.serverErrors = 2;   mj.queueFull = 1;
//   mj.queuePrompt('relax', { notStartMs: 6000, submittedMs: 8000 });   mj.delaySubmits(3000);   mj.forget(id);
//
// Looking a task up by the `state` the client sent (our task id), as trueai-org's server allows (source:
// github.com/trueai-org/midjourney-proxy, src/Midjourney.API/Controllers/TaskController.cs and AdminController.cs,
// at 11.10.3): `POST /mj/task/list-by-condition` (alias `list-by-ids`) filters by `ids` ONLY (TaskConditionDTO has
// nothing else); `GET /mj/task/list` returns the latest 100 tasks of the server, each with its `state`;
// `POST /mj/admin/tasks {pagination:{current,pageSize}, search:{id}}` matches `Id == id || State == id`, answers
// `{list, pagination:{current,pageSize,total,pageCount}, extendData}` and needs an admin token (else 401 "Forbidden:
// User is not admin."). The open-source novicezk server has `GET /mj/task/list` (every task in memory) only.
//
// Moderation holds (`moderatePrompt`): Midjourney answers some prompts with an error embed titled "Action needed to
// continue" or "Pending mod message" and never draws them. trueai-org's DiscordMessageHandler (src/Midjourney.
// Infrastructure/Handle/…, `continueTitles = { "Action needed to continue" }`) skips that embed, so the task stays
// IN_PROGRESS; it writes other embeds it keeps to the task's `description` as "{title}, {desc}" (its "Job queued"
// branch). novicezk's ErrorMessageHandler fails the task with the embed's description instead (that is FAILURE
// with failReason, see failPrompt). The fake holds the task IN_PROGRESS with the embed in `description`: the
// shape a relay that surfaces the hold shows (unconfirmed beyond those two sources; the adapter reads both).
//
// Remix (trueai-org, src/Midjourney.API/Controllers/SubmitController.cs `Action`/`Modal`, SubmitActionDTO.cs
// `EnableRemix` "是否使用remix模式", and TaskService.SubmitAction): `/mj/submit/action` with `enableRemix: true` on a
// PAN, VARIATION (V1–V4, high/low variation) or REROLL customId saves the new task as MODAL and answers
// `{code: 21 (ReturnCode.EXISTED), description: "Waiting for window confirm", result: <new task id>,
// properties: {finalPrompt, remix: true}}`; `POST /mj/submit/modal {taskId, prompt}` then checks the prompt for
// banned words (code 24, as imagine) and submits it (1, or 22 when queued). The fake does the same for those actions.
//
// Video (`video: true`, trueai's Setting.EnableVideo), after trueai-org/midjourney-proxy's source:
// src/Midjourney.Base/Models/CustomComponentModel.cs (CreateAnimateButtons: `MJ::JOB::animate_high|animate_low::
// {index}::{hash}::SOLO` under an upscale), src/Midjourney.Base/Models/TaskInfo.cs (a video task's `VideoUrls`
// [{url}] and `videoUrl`; SetVideoUpscaleButtons: `MJ::JOB::video_virtual_upscale::{1..n}::{hash}` and a reroll;
// SetVideoExtendButtons: `MJ::JOB::animate_high_extend|animate_low_extend::1::{hash}`), src/Midjourney.Base/Models/
// Enums.cs (every video task has action VIDEO; VIDEO_EXTEND is deprecated) and src/Midjourney.Base/Dto/
// SubmitVideoDTO.cs (`POST /mj/submit/video {prompt, motion: low|high, image (url|base64), endImage?, loop,
// action?: "extend", index?: 0–3, taskId?, videoType: vid_1.1_i2v_480|vid_1.1_i2v_720, batchSize: 1|2|4}`).
// Clips are real MP4s made by the ffmpeg that ships in npm, served from `/videos/`.
import type { ServerResponse } from 'node:http';
import { FakeRelayServer, MjRelayFake, fakeHash, sendImage, sendJson, type SeenRequest } from './fake-mj-common.ts';
import { makeClip } from './fake-clips.ts';

export interface MjButton {
  customId: string;
  emoji: string;
  label: string;
  style: number;
  type: number;
}

export interface MjTaskJson {
  id: string;
  action: string;
  status: 'NOT_START' | 'SUBMITTED' | 'MODAL' | 'IN_PROGRESS' | 'SUCCESS' | 'FAILURE' | 'CANCEL';
  prompt: string;
  promptEn: string;
  description: string;
  state: string | null;
  submitTime: number;
  startTime: number | null;
  finishTime: number | null;
  progress: string;
  imageUrl: string | null;
  failReason: string | null;
  properties: Record<string, unknown>;
  buttons: MjButton[];
  /** Video tasks only. */
  videoUrl?: string;
  videoUrls?: Array<{ url: string; thumbnail: string }>;
}

interface FakeTask {
  json: MjTaskJson;
  notifyHook?: string;
  /** Quadrant picked, for upscales. */
  index?: number;
  failWith?: string;
  /** Held by moderation: stays IN_PROGRESS with this in `description`, never finishes. */
  holdWith?: string;
  /** Made by a 2x/4x upscaler: its result offers no further upscale. */
  big?: boolean;
  /** Stopped by /cancel: its timers no longer move it. */
  cancelled?: boolean;
  /** A video task: what made it, how many clips, and how long each plays. */
  video?: { kind: 'animate' | 'pick' | 'extend'; clips: number; seconds: number };
}

export interface FakeMidjourneyProxyOptions {
  apiKey?: string;
  /** Time between two states of a task. */
  stepMs?: number;
  /** Behave like the open-source novicezk server: no /action, /modal, list-by-condition, no buttons. */
  openSource?: boolean;
  /** Answer imagine with code 22 ("queued") once this many tasks are running. */
  queueAfter?: number;
  /** The key is the server's admin token (default true): /mj/admin/tasks answers; false: 401 as for a plain user. */
  admin?: boolean;
  /** Video turned on (trueai's EnableVideo): upscales offer Animate, and /mj/submit/video answers. */
  video?: boolean;
}

/** Seconds of a fake clip, and what an Extend adds (short: the tests only need "longer"). */
const CLIP_SECONDS = 2;
const EXTEND_SECONDS = 1;
/** ffmpeg's moving test pattern, tinted per clip of a batch so the four clips differ. */
const PATTERNS = [0, 90, 180, 270].map((hue) => (seconds: number) => `testsrc2=size=320x240:rate=10:duration=${seconds},hue=h=${hue}`);

/** Actions trueai-org turns into a remix modal when asked (`enableRemix`). */
const REMIX_ACTIONS = new Set(['VARIATION', 'HIGH_VARIATION', 'LOW_VARIATION', 'REROLL', 'PAN']);
const PROGRESS = ['0%', '25%', '63%', '91%'];
const GRID_ACTIONS = new Set(['EDIT', 'IMAGINE', 'BLEND', 'VARIATION', 'REROLL', 'HIGH_VARIATION', 'LOW_VARIATION', 'ZOOM', 'PAN', 'CUSTOM_ZOOM']);

/** What every fake /describe suggests. */
export const DESCRIPTIONS = [
  'a tabby cat asleep on a windowsill, morning light --ar 3:2',
  'cozy interior, cat napping in the sun, film grain --ar 3:2',
  'orange cat curled up by a window, watercolor --ar 3:2',
  'a sleepy kitten in warm sunlight, soft focus photography --ar 3:2',
];

/** What every fake /shorten suggests (Midjourney gives up to five). */
export const SHORTENED = [
  'tabby cat, windowsill, morning light --ar 3:2',
  'cat asleep on a windowsill --ar 3:2',
  'sleepy tabby cat, soft light --ar 3:2',
  'cat, window, morning --ar 3:2',
  'tabby cat napping --ar 3:2',
];

// /shorten (trueai-org only; source: github.com/trueai-org/midjourney-proxy, SubmitController.cs `[HttpPost("shorten")]`
// taking SubmitImagineDTO {prompt, state, notifyHook…} and answering SubmitResultVO like every submit). The task's
// action is SHORTEN; on success DiscordWebSocketService.HandleShorten stores Midjourney's embed description as the
// task's `description` and `properties.finalPrompt`, with no image; TaskService reads the prompts back as the
// non-blank lines after "Shortened prompts", each past its keycap. The embed text below follows that shape.
const shortenedEmbed = (prompt: string) =>
  `## Important tokens\n\n${prompt.split(/\s+/).slice(0, 4).map((w) => `**${w}**`).join(' ')}\n\n## Shortened prompts\n\n` +
  SHORTENED.map((p, i) => `${i + 1}️⃣ ${p}`).join('\n\n');

/** The seed the fake reports for a task: fixed per id, so a test can predict it. */
export const seedOf = (id: string) => String(1_000_000_000 + Number(id) * 7919);

const isImageDataUri = (v: unknown) => typeof v === 'string' && /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/]+=*$/.test(v);

const button = (customId: string, label = '', emoji = ''): MjButton => ({ customId, emoji, label, style: 2, type: 2 });

function gridButtons(hash: string): MjButton[] {
  return [
    ...[1, 2, 3, 4].map((i) => button(`MJ::JOB::upsample::${i}::${hash}`, `U${i}`)),
    button(`MJ::JOB::reroll::0::${hash}::SOLO`, '', '🔄'),
    ...[1, 2, 3, 4].map((i) => button(`MJ::JOB::variation::${i}::${hash}`, `V${i}`)),
  ];
}

function upscaleButtons(hash: string, bigUpscale: boolean, video = false): MjButton[] {
  return [
    ...(video ? [button(`MJ::JOB::animate_high::1::${hash}::SOLO`, 'Animate (High motion)', '🎞️'), button(`MJ::JOB::animate_low::1::${hash}::SOLO`, 'Animate (Low motion)', '🎞️')] : []),
    ...(bigUpscale ? [] : [button(`MJ::JOB::upsample_v5_2x::1::${hash}::SOLO`, 'Upscale (2x)'), button(`MJ::JOB::upsample_v5_4x::1::${hash}::SOLO`, 'Upscale (4x)')]),
    button(`MJ::JOB::high_variation::1::${hash}::SOLO`, 'Vary (Strong)', '🪄'),
    button(`MJ::JOB::low_variation::1::${hash}::SOLO`, 'Vary (Subtle)', '🪄'),
    // Vary (Region): offered by the bot with its own editor page (PUBLIC_URL), through /action then /modal.
    button(`MJ::Inpaint::1::${hash}::SOLO`, 'Vary (Region)', '🖌️'),
    button(`MJ::Outpaint::50::1::${hash}::SOLO`, 'Zoom Out 2x', '🔍'),
    button(`MJ::Outpaint::75::1::${hash}::SOLO`, 'Zoom Out 1.5x', '🔍'),
    button(`MJ::CustomZoom::${hash}`, 'Custom Zoom', '🔍'),
    ...Object.entries({ left: '⬅️', right: '➡️', up: '⬆️', down: '⬇️' }).map(([d, emoji]) => button(`MJ::JOB::pan_${d}::1::${hash}::SOLO`, '', emoji)),
  ];
}

function videoBatchButtons(hash: string, clips: number): MjButton[] {
  return [...Array.from({ length: clips }, (_, i) => button(`MJ::JOB::video_virtual_upscale::${i + 1}::${hash}`, `U${i + 1}`)), button(`MJ::JOB::reroll::0::${hash}::SOLO`, '', '🔄')];
}

function videoExtendButtons(hash: string): MjButton[] {
  return [button(`MJ::JOB::animate_high_extend::1::${hash}`, 'Extend (High motion)', '🎞️'), button(`MJ::JOB::animate_low_extend::1::${hash}`, 'Extend (Low motion)', '🎞️')];
}

/** customId → the task action it starts (and the quadrant, for U/V). */
function actionOf(customId: string): { action: string; index?: number; modal?: boolean; video?: 'animate' | 'pick' | 'extend' } | undefined {
  let m = /^MJ::JOB::animate_(high|low)_extend::/.exec(customId);
  if (m) return { action: 'VIDEO', video: 'extend' };
  m = /^MJ::JOB::animate_(high|low)::([1-4])::/.exec(customId);
  if (m) return { action: 'VIDEO', video: 'animate' };
  m = /^MJ::JOB::video_virtual_upscale::([1-4])::/.exec(customId);
  if (m) return { action: 'VIDEO', video: 'pick', index: Number(m[1]) };
  m = /^MJ::JOB::(upsample|variation)::([1-4])::/.exec(customId);
  if (m) return { action: m[1] === 'upsample' ? 'UPSCALE' : 'VARIATION', index: Number(m[2]) };
  if (/^MJ::JOB::reroll::/.test(customId)) return { action: 'REROLL' };
  m = /^MJ::JOB::(high|low)_variation::/.exec(customId);
  if (m) return { action: `${m[1]!.toUpperCase()}_VARIATION` };
  if (/^MJ::JOB::upsample_v\d+_/.test(customId)) return { action: 'UPSCALE_BIG' };
  if (/^MJ::Outpaint::/.test(customId)) return { action: 'ZOOM' };
  if (/^MJ::JOB::pan_/.test(customId)) return { action: 'PAN' };
  if (/^MJ::CustomZoom::/.test(customId)) return { action: 'CUSTOM_ZOOM', modal: true };
  if (/^MJ::Inpaint::/.test(customId)) return { action: 'INPAINT', modal: true };
  return undefined;
}

export class FakeMidjourneyProxy extends MjRelayFake {
  readonly tasks = new Map<string, FakeTask>();
  /** Failure injections beyond the common ones (`inject`). */
  authFailure = false;
  /** The next N submissions answer code 23 (queue full). */
  queueFull = 0;
  /** Prompts containing a word here are refused with code 24. */
  bannedWords: string[] = [];
  /** Drop every notifyHook push (a relay that forgets to call back). */
  silent = false;
  /** Time between two states of a task (may be changed between jobs). */
  stepMs: number;
  /** Every /mj/submit/modal body, in order (Vary (Region): its prompt and maskBase64). */
  readonly modals: Array<{ taskId: string; prompt?: string; maskBase64?: string; action: string }> = [];
  /** Every task ever created, forgotten ones included, in order: the evidence for "submitted once". */
  readonly created: MjTaskJson[] = [];
  /** The `image` of every accepted edit, in order. */
  readonly editImages: string[] = [];
  /** The task ids whose seed was asked for (image-seed). */
  readonly seedRequests: string[] = [];
  /** Submissions whose answer was held back by `delaySubmits`. */
  lateAnswers = 0;
  private readonly failures: Array<[string, string]> = [];
  private readonly moderations: Array<[string, string]> = [];
  private readonly holds: string[] = [];
  private readonly queues: Array<{ substring: string; notStartMs: number; submittedMs: number }> = [];
  private submitDelay: { ms: number; left: number } | undefined;
  private nextId = 1_700_000_000_000_000;

  private constructor(
    readonly server: FakeRelayServer,
    readonly opts: Required<FakeMidjourneyProxyOptions>,
  ) {
    super();
    this.stepMs = opts.stepMs;
  }

  static async start(options: FakeMidjourneyProxyOptions = {}): Promise<FakeMidjourneyProxy> {
    const opts = { apiKey: 'mj-test-secret', stepMs: 150, openSource: false, queueAfter: 3, admin: true, video: false, ...options };
    return MjRelayFake.serve((server) => new FakeMidjourneyProxy(server, opts));
  }

  /** Jobs whose prompt contains `substring` stay IN_PROGRESS (at the last progress step) until `release()`. */
  holdPrompt(substring: string): void {
    this.holds.push(substring);
  }

  /** Lets held jobs finish. */
  release(): void {
    this.holds.length = 0;
  }

  /** Jobs whose prompt contains `substring` end in FAILURE with `reason`. */
  failPrompt(substring: string, reason: string): void {
    this.failures.push([substring, reason]);
  }

  /** Jobs whose prompt contains `substring` are held by Midjourney's moderation: IN_PROGRESS for good, `description` the embed. */
  moderatePrompt(substring: string, description: string): void {
    this.moderations.push([substring, description]);
  }

  /** New jobs no longer fail by prompt (failPrompt). */
  unfail(): void {
    this.failures.length = 0;
  }

  /** New jobs are no longer held by moderation (held ones stay held). */
  unmoderate(): void {
    this.moderations.length = 0;
  }

  task(id: string): MjTaskJson | undefined {
    return this.tasks.get(id)?.json;
  }

  /**
   * Jobs whose prompt contains `substring` wait in the relay's own queue before they draw, as in relax mode or
   * behind the account's other jobs: NOT_START for `notStartMs`, then SUBMITTED (0%) for `submittedMs`, then the
   * usual IN_PROGRESS steps. Polls and pushes show them all along.
   */
  queuePrompt(substring: string, wait: { notStartMs: number; submittedMs: number }): void {
    this.queues.push({ substring, ...wait });
  }

  /**
   * The next `times` submissions (/mj/submit/*) are carried out at once, but answered only after `ms`: a client
   * that gives up first has a job at the relay it does not know the id of.
   */
  delaySubmits(ms: number, times = Number.POSITIVE_INFINITY): void {
    this.submitDelay = { ms, left: times };
  }

  /** The relay forgets a task (restarted with a memory store, or purged): fetch answers empty, lists leave it out. */
  forget(id: string): void {
    this.tasks.delete(id);
  }

  /** Every task ever created whose prompt contains `substring` (forgotten ones too). */
  tasksFor(substring: string): MjTaskJson[] {
    return this.created.filter((t) => t.prompt.includes(substring));
  }

  /** Every task ever created with this `state` (the client's own id for its job). */
  tasksWithState(state: string): MjTaskJson[] {
    return this.created.filter((t) => t.state === state);
  }

  private takeSubmitDelay(): number {
    if (!this.submitDelay || this.submitDelay.left <= 0) return 0;
    this.submitDelay.left--;
    return this.submitDelay.ms;
  }

  private answerSubmit(res: ServerResponse, body: unknown): Promise<void> | void {
    const delay = this.takeSubmitDelay();
    if (delay <= 0) return sendJson(res, 200, body);
    this.lateAnswers++;
    return new Promise<void>((resolve) =>
      this.server.later(delay, () => {
        if (!res.destroyed) sendJson(res, 200, body);
        resolve();
      }),
    );
  }

  /** trueai's admin task search: `search.id` matches a task's id or its state; newest first, paged. */
  private adminTasks(body: Record<string, unknown>) {
    const search = (body.search ?? {}) as Record<string, unknown>;
    const page = (body.pagination ?? {}) as Record<string, unknown>;
    const current = Math.max(1, Number(page.current ?? 1));
    const pageSize = Math.min(100, Math.max(1, Number(page.pageSize ?? 10)));
    const id = typeof search.id === 'string' ? search.id.trim() : '';
    const all = [...this.tasks.values()].map((t) => t.json).filter((t) => !id || t.id === id || t.state === id).sort((a, b) => b.submitTime - a.submitTime);
    const list = all.slice((current - 1) * pageSize, current * pageSize);
    return { list, pagination: { current, pageSize, total: all.length, pageCount: Math.ceil(all.length / pageSize) }, extendData: { total: all.length } };
  }

  protected async route(req: SeenRequest, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.path.startsWith('/images/')) return sendImage(res, req.path, 256, req.path.includes('-single') ? 384 : 256);
    const clip = /^\/videos\/(\d+)-([1-4])\.mp4$/.exec(req.path);
    if (req.method === 'GET' && clip) {
      const video = this.tasks.get(clip[1]!)?.video;
      if (!video) return sendJson(res, 404, { status: 404, error: 'Not Found', path: req.path });
      const data = await makeClip(PATTERNS[Number(clip[2]) - 1]!(video.seconds));
      // CDNs often serve clips as octet-stream: the bot must check the bytes, not the header.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length }).end(data);
      return;
    }
    if (req.headers['mj-api-secret'] !== this.opts.apiKey || this.authFailure) return sendJson(res, 401, { code: 401, description: 'Unauthorized' });
    const body = (req.body ?? {}) as Record<string, unknown>;
    const plusOnly = ['/mj/submit/action', '/mj/submit/modal', '/mj/task/list-by-condition', '/mj/task/list-by-ids', '/mj/admin/tasks'];
    if (this.opts.openSource && plusOnly.includes(req.path)) return sendJson(res, 404, { timestamp: Date.now(), status: 404, error: 'Not Found', path: req.path });
    if (req.method === 'POST' && req.path === '/mj/submit/imagine') return this.answerSubmit(res, this.imagine(body));
    if (req.method === 'POST' && req.path === '/mj/submit/blend') return this.answerSubmit(res, this.blend(body));
    if (req.method === 'POST' && req.path === '/mj/submit/describe') return this.answerSubmit(res, this.describe(body));
    if (req.method === 'POST' && req.path === '/mj/submit/shorten' && !this.opts.openSource) return this.answerSubmit(res, this.shorten(body));
    if (req.method === 'POST' && (req.path === '/mj/submit/edits' || req.path === '/mj/submit/edit') && !this.opts.openSource) return this.answerSubmit(res, this.edit(body));
    if (req.method === 'POST' && req.path === '/mj/submit/action') return this.answerSubmit(res, this.action(body));
    if (req.method === 'POST' && req.path === '/mj/submit/video') return this.answerSubmit(res, this.submitVideo(body));
    if (req.method === 'POST' && req.path === '/mj/submit/change') return this.answerSubmit(res, this.change(body));
    if (req.method === 'POST' && req.path === '/mj/submit/modal') return this.answerSubmit(res, this.modal(body));
    if (req.method === 'GET' && req.path === '/mj/task/list') {
      const newest = [...this.tasks.values()].map((t) => t.json).sort((a, b) => b.submitTime - a.submitTime);
      return sendJson(res, 200, this.opts.openSource ? newest : newest.slice(0, 100));
    }
    if (req.method === 'POST' && req.path === '/mj/admin/tasks') {
      if (!this.opts.admin) return sendJson(res, 401, 'Forbidden: User is not admin.');
      return sendJson(res, 200, this.adminTasks(body));
    }
    if (req.method === 'POST' && (req.path === '/mj/task/list-by-condition' || req.path === '/mj/task/list-by-ids')) {
      const ids = Array.isArray(body.ids) ? body.ids.map(String) : [];
      return sendJson(res, 200, ids.map((id) => this.tasks.get(id)?.json).filter(Boolean));
    }
    const cancelMatch = /^\/mj\/task\/([^/]+)\/cancel$/.exec(req.path);
    if (req.method === 'POST' && cancelMatch) {
      if (this.opts.openSource) return sendJson(res, 404, { timestamp: Date.now(), status: 404, error: 'Not Found', path: req.path });
      this.cancel(decodeURIComponent(cancelMatch[1]!));
      // trueai answers an empty 200 whether or not there was anything left to stop.
      return sendJson(res, 200, undefined);
    }
    const seedMatch = /^\/mj\/task\/([^/]+)\/image-seed$/.exec(req.path);
    if (req.method === 'GET' && seedMatch && !this.opts.openSource) return this.imageSeed(res, decodeURIComponent(seedMatch[1]!));
    const fetchMatch = /^\/mj\/task\/([^/]+)\/fetch$/.exec(req.path);
    // Spring answers a missing task with 200 and an empty body.
    if (req.method === 'GET' && fetchMatch) return sendJson(res, 200, this.tasks.get(decodeURIComponent(fetchMatch[1]!))?.json);
    return sendJson(res, 404, { status: 404, error: 'Not Found', path: req.path });
  }

  /**
   * trueai-org's `GET /mj/task/{id}/image-seed` (src/Midjourney.API/Controllers/TaskController.cs `ImageSeed`):
   * 200 `{code: 1, description: "成功", result: seed}` for a finished task; 400 `{code: 4, "关联任务状态错误"}` for
   * one without a message hash (not finished); 404 `{code: 3, "关联任务不存在或已失效"}` for an unknown id.
   */
  private imageSeed(res: ServerResponse, id: string): void {
    const task = this.tasks.get(id);
    if (!task) return sendJson(res, 404, { code: 3, description: '关联任务不存在或已失效', result: null, properties: {} });
    if (task.json.status !== 'SUCCESS') return sendJson(res, 400, { code: 4, description: '关联任务状态错误', result: null, properties: {} });
    this.seedRequests.push(id);
    sendJson(res, 200, { code: 1, description: '成功', result: seedOf(id), properties: {} });
  }

  private refusal(prompt: string) {
    if (this.queueFull > 0) {
      this.queueFull--;
      return { code: 23, description: '队列已满，请稍后尝试', result: null, properties: { numberOfQueues: 10, discordInstanceId: '1118138338562560102' } };
    }
    const banned = this.bannedWords.find((w) => prompt.toLowerCase().includes(w.toLowerCase()));
    if (banned) return { code: 24, description: '可能包含敏感词', result: null, properties: { promptEn: prompt, bannedWord: banned } };
    return undefined;
  }

  private accepted(task: FakeTask) {
    const running = [...this.tasks.values()].filter((t) => t.json.status === 'IN_PROGRESS').length;
    if (running > this.opts.queueAfter) return { code: 22, description: `排队中，前面还有${running - this.opts.queueAfter}个任务`, result: task.json.id, properties: { numberOfQueues: running - this.opts.queueAfter } };
    return { code: 1, description: '提交成功', result: task.json.id, properties: { discordInstanceId: '1118138338562560102' } };
  }

  private imagine(body: Record<string, unknown>) {
    const prompt = String(body.prompt ?? '');
    if (!prompt) return { code: 4, description: 'prompt不能为空', result: null, properties: {} };
    if (body.base64Array !== undefined && !(Array.isArray(body.base64Array) && body.base64Array.every(isImageDataUri))) {
      return { code: 4, description: 'base64Array参数错误', result: null, properties: {} };
    }
    const refused = this.refusal(prompt);
    if (refused) return refused;
    const task = this.create('IMAGINE', prompt, body);
    this.start(task);
    return this.accepted(task);
  }

  private blend(body: Record<string, unknown>) {
    const images = body.base64Array;
    if (!Array.isArray(images) || images.length < 2 || images.length > 5 || !images.every(isImageDataUri)) {
      return { code: 4, description: 'base64Array参数错误', result: null, properties: {} };
    }
    const dimensions = String(body.dimensions ?? 'SQUARE');
    if (!['PORTRAIT', 'SQUARE', 'LANDSCAPE'].includes(dimensions)) return { code: 4, description: 'dimensions参数错误', result: null, properties: {} };
    const task = this.create('BLEND', '', body);
    task.json.description = `/blend ${images.length} ${dimensions}`;
    this.start(task);
    return this.accepted(task);
  }

  private describe(body: Record<string, unknown>) {
    if (!isImageDataUri(body.base64)) return { code: 4, description: 'base64参数错误', result: null, properties: {} };
    const task = this.create('DESCRIBE', '', body);
    task.json.description = '/describe';
    this.start(task);
    return this.accepted(task);
  }

  private shorten(body: Record<string, unknown>) {
    const prompt = String(body.prompt ?? '');
    if (!prompt) return { code: 4, description: 'prompt不能为空', result: null, properties: {} };
    const task = this.create('SHORTEN', prompt, body);
    task.json.description = `/shorten ${prompt}`;
    this.start(task);
    return this.accepted(task);
  }

  /**
   * trueai-org's `POST /mj/submit/edits` (alias `edit`; SubmitController.cs `Edits`, SubmitEditsDTO {prompt, image,
   * accountFilter} + state/notifyHook): code 4 "image或prompt不能为空" without either; `image` is an http(s) URL or
   * base64 (a data URI, or bare base64 taken as PNG). The task's action is EDIT and its prompt the new one; what it
   * ends as is not in that source, so the fake finishes it as a grid like an imagine.
   */
  private edit(body: Record<string, unknown>) {
    const prompt = typeof body.prompt === 'string' ? body.prompt.trim() : '';
    const image = typeof body.image === 'string' ? body.image.trim() : '';
    if (!prompt || !image) return { code: 4, description: 'image或prompt不能为空', result: null, properties: {} };
    if (!/^https?:\/\//i.test(image) && !isImageDataUri(image) && !/^[A-Za-z0-9+/]+=*$/.test(image)) return { code: 4, description: 'base64格式错误', result: null, properties: {} };
    const refused = this.refusal(prompt);
    if (refused) return refused;
    const task = this.create('EDIT', prompt, body);
    task.json.description = `/edit ${prompt}`;
    this.editImages.push(image);
    this.start(task);
    return this.accepted(task);
  }

  private action(body: Record<string, unknown>) {
    const parent = this.tasks.get(String(body.taskId ?? ''));
    if (!parent) return { code: 3, description: '关联任务不存在或已失效', result: null, properties: {} };
    const customId = String(body.customId ?? '');
    const what = actionOf(customId);
    if (!what || !parent.json.buttons.some((b) => b.customId === customId)) return { code: 4, description: 'customId参数错误', result: null, properties: {} };
    const refused = this.refusal(parent.json.prompt);
    if (refused) return refused;
    const task = this.create(what.action, parent.json.prompt, body, parent, what.index);
    if (what.video) {
      const from = parent.video?.seconds ?? 0;
      if (what.video === 'animate') task.video = { kind: 'animate', clips: 4, seconds: CLIP_SECONDS };
      else if (what.video === 'pick') task.video = { kind: 'pick', clips: 1, seconds: from || CLIP_SECONDS };
      else {
        task.video = { kind: 'extend', clips: 1, seconds: (from || CLIP_SECONDS) + EXTEND_SECONDS };
        // The same clip, longer: it keeps the picked clip's picture.
        task.index = parent.index;
      }
    }
    if (what.modal) {
      task.json.status = 'MODAL';
      return { code: 21, description: '窗口等待', result: task.json.id, properties: { finalPrompt: parent.json.prompt } };
    }
    if (body.enableRemix === true && REMIX_ACTIONS.has(what.action)) {
      task.json.status = 'MODAL';
      return { code: 21, description: 'Waiting for window confirm', result: task.json.id, properties: { finalPrompt: parent.json.prompt, remix: true } };
    }
    this.start(task);
    return this.accepted(task);
  }

  /** SubmitVideoDTO: Animate an image (URL or base64) into `batchSize` clips, or Extend clip `index` of `taskId`. */
  private submitVideo(body: Record<string, unknown>) {
    if (!this.opts.video) return { code: 4, description: '未开启视频功能', result: null, properties: {} };
    const motion = String(body.motion ?? 'low');
    if (!['low', 'high'].includes(motion)) return { code: 4, description: 'motion参数错误', result: null, properties: {} };
    const batchSize = Number(body.batchSize ?? 4);
    if (![1, 2, 4].includes(batchSize)) return { code: 4, description: 'batchSize参数错误', result: null, properties: {} };
    const prompt = String(body.prompt ?? '');
    if (body.action === 'extend') {
      const parent = this.tasks.get(String(body.taskId ?? ''));
      const index = Number(body.index);
      if (!parent?.video || parent.json.status !== 'SUCCESS') return { code: 3, description: '关联任务不存在或已失效', result: null, properties: {} };
      if (!(index >= 0 && index < parent.video.clips)) return { code: 4, description: 'index参数错误', result: null, properties: {} };
      const task = this.create('VIDEO', prompt || parent.json.prompt, body, parent);
      task.video = { kind: 'extend', clips: 1, seconds: parent.video.seconds + EXTEND_SECONDS };
      task.index = parent.video.clips === 1 ? parent.index : index + 1;
      this.start(task);
      return this.accepted(task);
    }
    if (body.action !== undefined && body.action !== null && body.action !== '') return { code: 4, description: 'action参数错误', result: null, properties: {} };
    const image = body.image;
    if (typeof image !== 'string' || !(/^https?:\/\//.test(image) || isImageDataUri(image))) return { code: 4, description: 'image参数错误', result: null, properties: {} };
    // `endImage` is optional, a URL or base64 like `image`; `loop` is a bool (default false). The fake answers a
    // mistyped one with the validation code rather than ASP.NET's model-binding 400.
    const endImage = body.endImage;
    if (endImage !== undefined && endImage !== null && endImage !== '' && (typeof endImage !== 'string' || !(/^https?:\/\//.test(endImage) || isImageDataUri(endImage)))) {
      return { code: 4, description: 'endImage参数错误', result: null, properties: {} };
    }
    if (body.loop !== undefined && typeof body.loop !== 'boolean') return { code: 4, description: 'loop参数错误', result: null, properties: {} };
    const refused = this.refusal(prompt);
    if (refused) return refused;
    const task = this.create('VIDEO', prompt, body);
    task.video = { kind: 'animate', clips: batchSize, seconds: CLIP_SECONDS };
    this.start(task);
    return this.accepted(task);
  }

  private change(body: Record<string, unknown>) {
    const parent = this.tasks.get(String(body.taskId ?? ''));
    if (!parent) return { code: 3, description: '关联任务不存在或已失效', result: null, properties: {} };
    const action = String(body.action ?? '');
    if (!['UPSCALE', 'VARIATION', 'REROLL'].includes(action)) return { code: 4, description: 'action参数错误', result: null, properties: {} };
    const index = body.index === undefined ? undefined : Number(body.index);
    if (action !== 'REROLL' && !(index! >= 1 && index! <= 4)) return { code: 4, description: 'index参数错误', result: null, properties: {} };
    if (parent.json.status !== 'SUCCESS' || !GRID_ACTIONS.has(parent.json.action)) return { code: 4, description: '关联任务状态错误', result: null, properties: {} };
    const task = this.create(action, parent.json.prompt, body, parent, index);
    this.start(task);
    return this.accepted(task);
  }

  private modal(body: Record<string, unknown>) {
    const task = this.tasks.get(String(body.taskId ?? ''));
    if (!task || task.json.status !== 'MODAL') return { code: 3, description: '任务不存在或状态错误', result: null, properties: {} };
    // trueai-org src/Midjourney.API/Controllers/SubmitController.cs `Modal` (SubmitModalDTO {taskId, prompt,
    // maskBase64}; prompt required, else code 4 "参数错误"; answers 1 or 22), reached after `Action` maps
    // `MJ::Inpaint::` to INPAINT and answers 21. The published API doc (apifox "提交Modal") names maskBase64
    // "局部重绘的蒙版base64"; the fake insists on the PNG data URL the adapter sends for INPAINT.
    if (typeof body.prompt !== 'string' || !body.prompt.trim()) return { code: 4, description: '参数错误', result: null, properties: {} };
    this.modals.push({ taskId: task.json.id, prompt: body.prompt, maskBase64: typeof body.maskBase64 === 'string' ? body.maskBase64 : undefined, action: task.json.action });
    if (task.json.action === 'INPAINT' && !(typeof body.maskBase64 === 'string' && body.maskBase64.startsWith('data:image/png;base64,'))) {
      return { code: 4, description: 'base64格式错误', result: null, properties: {} };
    }
    if (typeof body.prompt === 'string' && body.prompt) {
      const refused = this.refusal(body.prompt);
      if (refused) return refused;
      task.json.prompt = body.prompt;
      task.json.promptEn = body.prompt;
    }
    task.json.status = 'SUBMITTED';
    this.start(task);
    return { code: 1, description: '提交成功', result: task.json.id, properties: {} };
  }

  /** What trueai's cancel does: an unfinished task fails with "取消任务" (and is pushed); a finished one is left alone. */
  private cancel(id: string): void {
    const task = this.tasks.get(id);
    if (!task || task.json.status === 'SUCCESS' || task.json.status === 'FAILURE') return;
    task.cancelled = true;
    Object.assign(task.json, { status: 'FAILURE', failReason: '取消任务', finishTime: Date.now(), progress: '' });
    this.notify(task);
  }

  private create(action: string, prompt: string, body: Record<string, unknown>, parent?: FakeTask, index?: number): FakeTask {
    const id = String(this.nextId++);
    const json: MjTaskJson = {
      id,
      action: action === 'UPSCALE_BIG' ? 'UPSCALE' : action,
      status: 'NOT_START',
      prompt,
      promptEn: prompt,
      description: parent ? `/${action.toLowerCase()} ${parent.json.id}` : `/imagine ${prompt}`,
      state: typeof body.state === 'string' ? body.state : null,
      submitTime: Date.now(),
      startTime: null,
      finishTime: null,
      progress: '0%',
      imageUrl: null,
      failReason: null,
      properties: { notifyHook: body.notifyHook ?? null, finalPrompt: prompt, discordInstanceId: '1118138338562560102' },
      buttons: [],
    };
    const task: FakeTask = { json, notifyHook: typeof body.notifyHook === 'string' ? body.notifyHook : undefined, index };
    task.failWith = this.failures.find(([s]) => prompt.includes(s))?.[1];
    task.holdWith = this.moderations.find(([s]) => prompt.includes(s))?.[1];
    task.big = action === 'UPSCALE_BIG';
    this.tasks.set(id, task);
    this.created.push(json);
    return task;
  }

  /** Queued first if a `queuePrompt` rule says so (NOT_START, then SUBMITTED at 0%), then `run`. */
  private start(task: FakeTask): void {
    const queue = this.queues.find((q) => task.json.prompt.includes(q.substring));
    if (!queue) return this.run(task);
    this.notify(task);
    this.server.later(queue.notStartMs, () => {
      if (task.cancelled || this.tasks.get(task.json.id) !== task) return;
      task.json.status = 'SUBMITTED';
      this.notify(task);
      this.server.later(queue.submittedMs, () => this.run(task));
    });
  }

  /** SUBMITTED → IN_PROGRESS 0% … 91% (with a preview) → SUCCESS or FAILURE, one state per step. */
  private run(task: FakeTask): void {
    if (task.cancelled || this.tasks.get(task.json.id) !== task) return;
    task.json.status = 'SUBMITTED';
    this.notify(task);
    let step = 0;
    const advance = () => {
      // Cancelled, or forgotten by the relay: nothing moves it any more.
      if (task.cancelled || this.tasks.get(task.json.id) !== task) return;
      // A held task keeps drawing (at its last progress) until released.
      if (step === PROGRESS.length && this.holds.some((h) => task.json.prompt.includes(h))) return this.server.later(this.stepMs, advance);
      const json = task.json;
      if (task.holdWith && step === 2) {
        // Midjourney will not draw it; the relay keeps showing it running, with the embed, and nothing moves it.
        Object.assign(json, { status: 'IN_PROGRESS', description: task.holdWith });
        return this.notify(task);
      }
      if (task.failWith && step === 2) {
        Object.assign(json, { status: 'FAILURE', failReason: task.failWith, finishTime: Date.now(), progress: '' });
      } else if (step < PROGRESS.length) {
        Object.assign(json, { status: 'IN_PROGRESS', startTime: json.startTime ?? Date.now(), progress: PROGRESS[step], imageUrl: step > 0 ? `${this.url}/images/${json.id}-preview-${step}.png` : null });
      } else {
        if (json.action === 'DESCRIBE') {
          // The input picture comes back as the image; the four prompts are in `finalPrompt` (and `prompt`).
          const text = DESCRIPTIONS.map((d, i) => `${i + 1}️⃣ ${d}`).join('\n\n');
          Object.assign(json, { status: 'SUCCESS', progress: '100%', finishTime: Date.now(), imageUrl: `${this.url}/images/${json.id}-single.png`, prompt: text, promptEn: text, buttons: [] });
          json.properties = { ...json.properties, finalPrompt: text };
          this.notify(task);
          return;
        }
        if (json.action === 'SHORTEN') {
          const text = shortenedEmbed(json.prompt);
          Object.assign(json, { status: 'SUCCESS', progress: '100%', finishTime: Date.now(), description: text, buttons: [] });
          json.properties = { ...json.properties, finalPrompt: text };
          this.notify(task);
          return;
        }
        const hash = fakeHash(json.id);
        if (task.video) {
          const videoUrls = Array.from({ length: task.video.clips }, (_, i) => ({ url: `${this.url}/videos/${json.id}-${task.index ?? i + 1}.mp4`, thumbnail: `${this.url}/images/${json.id}-${i + 1}-single.png` }));
          Object.assign(json, {
            status: 'SUCCESS',
            progress: '100%',
            finishTime: Date.now(),
            imageUrl: videoUrls[0]!.thumbnail,
            videoUrl: videoUrls[0]!.url,
            videoUrls,
            buttons: task.video.kind === 'animate' ? videoBatchButtons(hash, task.video.clips) : videoExtendButtons(hash),
          });
          this.notify(task);
          return;
        }
        const single = json.action === 'UPSCALE';
        Object.assign(json, {
          status: 'SUCCESS',
          progress: '100%',
          finishTime: Date.now(),
          imageUrl: `${this.url}/images/${json.id}${single ? '-single' : ''}.png`,
          buttons: this.opts.openSource ? [] : single ? upscaleButtons(hash, task.big === true, this.opts.video) : gridButtons(hash),
        });
      }
      this.notify(task);
      step++;
      if (json.status !== 'SUCCESS' && json.status !== 'FAILURE') this.server.later(this.stepMs, advance);
    };
    this.server.later(this.stepMs, advance);
  }

  private notify(task: FakeTask): void {
    if (task.notifyHook && !this.silent) this.server.push(task.notifyHook, task.json);
  }
}
