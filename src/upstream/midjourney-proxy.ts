// midjourney-proxy: the open-source novicezk server and its "plus" / trueai-org successors (and the many
// resellers running them). Plus servers act on a task through the customIds of its `buttons[]`; the
// open-source one only knows `/mj/submit/change` (U/V/reroll), so we fall back to it when `/action` is 404.
import { downloadInput } from './download.ts';
import { GRID_ACTIONS, INTERNAL_ACTIONS, actionIndex, isVideoAction, videoMotion, type InternalAction } from './actions.ts';
import { UpstreamHttp, type RelayConnection } from './http.ts';
import { blockingCodeOf, type FailCode } from './fail-codes.ts';
import { customIdsFromButtons } from './midjourney-proxy-buttons.ts';
import { clampPercent, fetchEach, isRecord, withModeParam } from './parse.ts';
import {
  UpstreamAccountError,
  UpstreamRejected,
  type AnimateRequest,
  type Capabilities,
  type InputImage,
  type ParentRef,
  type Provider,
  type ShortenRequest,
  type Submitted,
  type InpaintRequest,
  type SubmitRequest,
  type UpstreamJob,
  type UpstreamStatus,
} from './provider.ts';

/** `{code, description, result, properties}`: the answer to every /mj/submit/* call. */
interface SubmitResult {
  code?: number;
  description?: string;
  result?: string | number | null;
  properties?: Record<string, unknown> | null;
}

/** The task JSON returned by fetch / list-by-condition and pushed to notifyHook. */
export interface MjTask {
  id?: string | number;
  action?: string;
  status?: string;
  progress?: string | number | null;
  imageUrl?: string | null;
  failReason?: string | null;
  description?: string | null;
  buttons?: unknown;
  properties?: Record<string, unknown> | null;
  prompt?: string | null;
  promptEn?: string | null;
  /** Video tasks (action VIDEO): the first clip, and every clip of the batch. */
  videoUrl?: string | null;
  videoUrls?: Array<{ url?: string | null; thumbnail?: string | null }> | null;
}

/** The clips of a finished video task: `videoUrls[].url`, else the one `videoUrl`. */
function videoUrlsOf(task: MjTask): string[] {
  const list = Array.isArray(task.videoUrls) ? task.videoUrls.map((v) => v?.url).filter((u): u is string => typeof u === 'string' && u !== '') : [];
  if (list.length > 0) return list;
  return typeof task.videoUrl === 'string' && task.videoUrl ? [task.videoUrl] : [];
}

/** Midjourney's embed titles that stop a job, as relays copy them into `description` ("{title}, {desc}" or "[title] desc"). */
const HOLD_TITLES = /^\[?(action needed to continue|pending mod message|banned prompt detected|invalid parameter|invalid prompt)\b/i;

/** A task still shown waiting or running whose relay text says Midjourney stopped it (see the fake's sources). */
function heldBy(task: MjTask): { code: FailCode; words: string } | undefined {
  const words = [task.failReason, task.description].find((v): v is string => typeof v === 'string' && HOLD_TITLES.test(v.trim()))?.trim();
  const code = words ? blockingCodeOf(words) : undefined;
  return words && code ? { code, words } : undefined;
}

/** Blend shapes as the proxy names them. */
const DIMENSIONS = { portrait: 'PORTRAIT', square: 'SQUARE', landscape: 'LANDSCAPE' } as const;

/** A describe result: "1️⃣ first prompt\n\n2️⃣ second…" → the prompts. */
export function parseDescriptions(text: string): string[] {
  return text
    .split(/\n+|(?=\s[1-4]\uFE0F?\u20E3)/u)
    .map((line) => line.replace(/^\s*[1-4]\uFE0F?\u20E3\s*/u, '').trim())
    .filter((line) => line !== '');
}

/**
 * A shorten result: Midjourney's embed ("…Shortened prompts\n1️⃣ first\n2️⃣ second…", up to five), which
 * trueai-org keeps as the task's `description` and `properties.finalPrompt` (DiscordWebSocketService.HandleShorten)
 * and reads back the same way (TaskService: the lines after "Shortened prompts", each without its keycap).
 */
export function parseShortened(text: string): string[] {
  const at = text.indexOf('Shortened prompts');
  if (at < 0) return [];
  return text
    .slice(at)
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => /^[1-5]\uFE0F?\u20E3/u.test(line))
    .map((line) => line.replace(/^[1-5]\uFE0F?\u20E3\s*/u, '').trim())
    .filter((line) => line !== '')
    .slice(0, 5);
}

const STATUS: Record<string, UpstreamStatus> = {
  NOT_START: 'submitted',
  SUBMITTED: 'submitted',
  // Waiting for a modal submission; we send it right after the action, so it is about to run.
  MODAL: 'submitted',
  IN_PROGRESS: 'running',
  SUCCESS: 'succeeded',
  FAILURE: 'failed',
  CANCEL: 'failed',
};

/** The open-source server's task actions whose result is a grid (and so can be U/V/rerolled through /change). */
const GRID_TASKS = new Set(['IMAGINE', 'VARIATION', 'REROLL', 'BLEND']);

/** Our actions the open-source `/mj/submit/change` endpoint can perform. */
function changeRequest(action: InternalAction): { action: string; index?: number } | undefined {
  const index = actionIndex(action);
  if (action.startsWith('upscale:') && index) return { action: 'UPSCALE', index };
  if (action.startsWith('variation:') && index) return { action: 'VARIATION', index };
  if (action === 'reroll') return { action: 'REROLL' };
  return undefined;
}

/** "65%" or 65 → 65. */
export function parseProgress(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : Number.parseFloat(String(value ?? '').replace('%', ''));
  return Number.isFinite(n) ? clampPercent(n) : undefined;
}

/** Custom Zoom sends the prompt with a `--zoom` factor; Midjourney's own modal pre-fills 2. */
/** An action whose task carries a prompt of its own (remix), other than Custom Zoom's (always a modal). */
function isRemix(req: Extract<SubmitRequest, { kind: 'action' }>): boolean {
  return req.action !== 'zoom:custom' && req.prompt !== undefined && req.prompt !== req.parent.prompt;
}

function withZoom(prompt: string): string {
  return /--zoom\s+\d/.test(prompt) ? prompt : `${prompt.trim()} --zoom 2`;
}

type CustomIds = Partial<Record<InternalAction, string>>;

export class MidjourneyProxyProvider implements Provider {
  readonly id = 'midjourney-proxy' as const;
  readonly capabilities: Capabilities = {
    actions: INTERNAL_ACTIONS,
    push: true,
    batchFetch: true,
    progress: true,
    previews: true,
    // Images go as base64 data URIs: the attachments are downloaded from Discord at submit time.
    blend: true,
    describe: true,
    imagePrompts: true,
    // Vary (Region): the result's `MJ::Inpaint::` button, then the mask through /mj/submit/modal.
    inpaint: true,
    // trueai-org: `enableRemix` on /mj/submit/action makes V, 🔄, Vary and pans answer 21, then /mj/submit/modal takes the prompt.
    remix: [...GRID_ACTIONS.filter((a) => !a.startsWith('upscale:')), 'vary:subtle', 'vary:strong', 'pan:left', 'pan:right', 'pan:up', 'pan:down'],
    // trueai-org's /mj/submit/shorten; the open-source server answers 404 and the job is refused.
    shorten: true,
    // trueai-org's GET /mj/task/{id}/image-seed; elsewhere (404) the clicker is told the relay cannot say.
    seed: true,
    // /animate: trueai-org's /mj/submit/video with the uploaded image's URL; the open-source server answers 404 and the job is refused.
    animateImages: true,
  };
  /** Learned on the first 404: the server is the open-source one (no /action) or an old one (no batch). */
  private noActionEndpoint = false;
  private noBatchEndpoint = false;

  constructor(private readonly http: UpstreamHttp) {}

  /** The key goes in `mj-api-secret` (the proxy's own header) and as a Bearer token (what resellers check). */
  static create({ baseUrl, apiKey, timeoutMs }: RelayConnection): MidjourneyProxyProvider {
    return new MidjourneyProxyProvider(new UpstreamHttp(baseUrl, { 'mj-api-secret': apiKey, authorization: `Bearer ${apiKey}` }, timeoutMs));
  }

  async submit(req: SubmitRequest): Promise<Submitted> {
    const notifyHook = req.callbackUrl ? { notifyHook: req.callbackUrl } : {};
    if (req.kind === 'imagine') {
      const images = req.images?.length ? { base64Array: await dataUris(req.images) } : {};
      return this.accepted(await this.post('mj/submit/imagine', { prompt: withModeParam(req.prompt, req.mode), ...images, state: req.taskId, ...notifyHook }));
    }
    if (req.kind === 'blend') {
      const body = { base64Array: await dataUris(req.images), dimensions: DIMENSIONS[req.dimensions], state: req.taskId, ...notifyHook };
      return this.accepted(await this.post('mj/submit/blend', body));
    }
    if (req.kind === 'describe') {
      const [base64] = await dataUris([req.image]);
      return this.accepted(await this.post('mj/submit/describe', { base64, state: req.taskId, ...notifyHook }));
    }
    if (req.action === 'edit') return this.edit(req.parent.imageUrls[0], req.prompt ?? req.parent.prompt, req.taskId, notifyHook);
    const customIds = (req.parent.upstreamData?.customIds ?? {}) as CustomIds;
    const customId = customIds[req.action];
    // Without the button: Animate and Extend through trueai-org's /mj/submit/video (SubmitVideoDTO).
    if (!customId && isVideoAction(req.action)) return this.submitVideo(req.action, req.parent, req.taskId, req.prompt, notifyHook);
    if (customId && !this.noActionEndpoint) {
      const res = await this.http.json<SubmitResult>('mj/submit/action', {
        // A new prompt (remix) asks the relay for the modal (trueai-org SubmitActionDTO.EnableRemix; it needs the account's remix on).
        body: { taskId: req.parent.upstreamId, customId, state: req.taskId, ...(isRemix(req) && { enableRemix: true }), ...notifyHook },
      });
      if (res.status !== 404) {
        const result = this.checked(res.body, res.status);
        if (result.code !== 21) return this.accepted(result);
        // 21: Midjourney opened a modal (Custom Zoom, or any action with remix on): submit it with the prompt.
        const prompt = req.prompt ?? req.parent.prompt;
        return this.submitModal(this.idOf(result), req.action === 'zoom:custom' ? withZoom(prompt) : prompt);
      }
      this.noActionEndpoint = true;
    }
    const change = changeRequest(req.action);
    if (!change) throw new UpstreamRejected('errors.actionUnavailable');
    return this.accepted(await this.post('mj/submit/change', { taskId: req.parent.upstreamId, ...change, state: req.taskId, ...notifyHook }));
  }

  /**
   * ✏️ Edit: trueai-org's `POST /mj/submit/edits` (alias `edit`; SubmitEditsDTO: `prompt`, `image` as a URL or
   * base64, plus state/notifyHook; SubmitController.cs) redraws the upscaled image, given by its URL, to the new
   * prompt. Servers without it answer 404: the job is refused.
   */
  private async edit(image: string | undefined, prompt: string, taskId: string, notifyHook: { notifyHook?: string }): Promise<Submitted> {
    if (!image) throw new UpstreamRejected('errors.expired');
    const res = await this.http.json<SubmitResult>('mj/submit/edits', { body: { prompt, image, state: taskId, ...notifyHook } });
    if (res.status === 404) throw new UpstreamRejected('images:errors.unsupported');
    return this.accepted(this.checked(res.body, res.status));
  }

  /**
   * trueai-org's `POST /mj/submit/shorten` (SubmitImagineDTO: prompt, state, notifyHook; SubmitController.cs)
   * answers like every submit; the open-source server has no such route (404): the job is refused.
   */
  async shorten(req: ShortenRequest): Promise<Submitted> {
    const notifyHook = req.callbackUrl ? { notifyHook: req.callbackUrl } : {};
    const res = await this.http.json<SubmitResult>('mj/submit/shorten', { body: { prompt: req.prompt, state: req.taskId, ...notifyHook } });
    if (res.status === 404) throw new UpstreamRejected('images:errors.unsupported');
    return this.accepted(this.checked(res.body, res.status));
  }

  /**
   * trueai-org's `GET /mj/task/{id}/image-seed` (TaskController.cs): `{code: 1, result: "<seed>"}` when known
   * (asked of Midjourney first if need be); code 3 (HTTP 404: no such task, or no such route), 4 (HTTP 400: the
   * task has no message hash yet) or 9 (Midjourney did not answer) when not.
   */
  async seed(job: ParentRef): Promise<string | undefined> {
    const res = await this.http.json<SubmitResult>(`mj/task/${encodeURIComponent(job.upstreamId)}/image-seed`);
    const body = res.body;
    // No such route (an old or open-source server: its 404 has no result code): stop offering 📋.
    if (res.status === 404 && body?.code === undefined) this.capabilities.seed = false;
    if (res.status !== 200 || !body || typeof body !== 'object' || body.code !== 1) return undefined;
    const seed = String(body.result ?? '').trim();
    return /^\d+$/.test(seed) ? seed : undefined;
  }

  /**
   * `POST /mj/submit/video`: Animate an image (by its URL) into a batch of four, or Extend clip `index` (0–3) of a
   * video task. Only for actions whose button the parent lacks; a pick has no such call.
   */
  private async submitVideo(action: InternalAction, parent: ParentRef, taskId: string, prompt: string | undefined, notifyHook: { notifyHook?: string }): Promise<Submitted> {
    const motion = isVideoAction(action) ? videoMotion(action) : undefined;
    if (!motion) throw new UpstreamRejected('errors.actionUnavailable');
    const common = { prompt: prompt ?? parent.prompt, motion, loop: false, videoType: 'vid_1.1_i2v_480', state: taskId, ...notifyHook };
    if (action.startsWith('animate:')) {
      const image = parent.imageUrls[0];
      if (!image) throw new UpstreamRejected('errors.actionUnavailable');
      return this.accepted(await this.post('mj/submit/video', { ...common, image, batchSize: 4 }));
    }
    // Extend acts on a picked clip: the only one of its task.
    return this.accepted(await this.post('mj/submit/video', { ...common, action: 'extend', taskId: parent.upstreamId, index: 0, batchSize: 1 }));
  }

  /**
   * /animate: trueai-org's `POST /mj/submit/video` (SubmitVideoDTO, src/Midjourney.Base/Dto/SubmitVideoDTO.cs:
   * `prompt`, `motion` low|high, `image` and `endImage` as a URL or base64, `loop` (default false), `videoType`
   * (default vid_1.1_i2v_480), `batchSize` 1|2|4 (default 4), plus state/notifyHook). The Discord links go as they
   * are (renewed just before): the relay fetches them. A batch of four, finished like Animate's (picks, then Extend).
   */
  async animate(req: AnimateRequest): Promise<Submitted> {
    const body = {
      prompt: req.prompt,
      motion: req.motion,
      image: req.image.url,
      ...(req.endImage && { endImage: req.endImage.url }),
      loop: req.loop,
      videoType: 'vid_1.1_i2v_480',
      batchSize: 4,
      state: req.taskId,
      ...(req.callbackUrl && { notifyHook: req.callbackUrl }),
    };
    const res = await this.http.json<SubmitResult>('mj/submit/video', { body });
    if (res.status === 404) throw new UpstreamRejected('images:errors.unsupported');
    return this.accepted(this.checked(res.body, res.status));
  }

  /**
   * The job this bot submitted for `taskId`: every submission carries it as `state`, and `GET /mj/task/list`
   * lists the server's latest tasks with their `state` (trueai-org: the newest 100, TaskController.cs; the
   * open-source server: all it holds). The batch read filters by id only, so this is the one way to ask.
   * A job older than the newest 100 is not found (and would be submitted again).
   */
  async lookup(taskId: string): Promise<UpstreamJob | undefined> {
    const res = await this.http.json<unknown>('mj/task/list');
    if (res.status === 404) return undefined;
    if (!Array.isArray(res.body)) throw new UpstreamAccountError('unavailable', `mj/task/list: HTTP ${res.status}, not a task list`);
    const mine = res.body.filter(isRecord).filter((t) => t.state === taskId);
    // Newest first: a relay that somehow holds two (an older bot version) has the later one current.
    mine.sort((a, b) => Number(b.submitTime ?? 0) - Number(a.submitTime ?? 0));
    return mine.length > 0 ? this.parseTask(mine[0]) : undefined;
  }

  async fetch(ids: string[]): Promise<UpstreamJob[]> {
    if (ids.length === 0) return [];
    if (!this.noBatchEndpoint) {
      const out: UpstreamJob[] = [];
      for (let i = 0; i < ids.length; i += 100) {
        const res = await this.http.json<unknown>('mj/task/list-by-condition', { body: { ids: ids.slice(i, i + 100) } });
        if (res.status === 404) {
          this.noBatchEndpoint = true;
          // The open-source server (no batch read) has no image-seed either: results stop offering 📋.
          this.capabilities.seed = false;
          break;
        }
        if (!Array.isArray(res.body)) throw new UpstreamAccountError('unavailable', `list-by-condition: HTTP ${res.status}, not a task list`);
        for (const raw of res.body) {
          const job = this.parseTask(raw);
          if (job) out.push(job);
        }
      }
      if (!this.noBatchEndpoint) return out;
    }
    return fetchEach(ids, ids.length, async (id) => {
      const res = await this.http.json<unknown>(`mj/task/${encodeURIComponent(id)}/fetch`);
      // An unknown id comes back as 404 or as an empty (null) body.
      return res.status === 200 ? this.parseTask(res.body) : undefined;
    });
  }

  /**
   * trueai-org's server stops a job with `POST /mj/task/{id}/cancel` (the job then ends as a FAILURE); the
   * open-source and older plus servers have no such route and answer 404.
   */
  async cancel(upstreamId: string): Promise<void> {
    const res = await this.http.json<unknown>(`mj/task/${encodeURIComponent(upstreamId)}/cancel`, { method: 'POST' });
    if (res.status === 404) throw new UpstreamRejected('errors.cancelUnsupported');
    if (res.status >= 400) {
      const body = res.body as { description?: unknown } | string | undefined;
      const reason = typeof body === 'string' ? body : typeof body?.description === 'string' ? body.description : '';
      throw new UpstreamRejected(reason.trim() || `mj/task/{id}/cancel: HTTP ${res.status}`);
    }
  }

  /** notifyHook carries the full task JSON, exactly as fetch returns it. */
  parseWebhook(body: unknown): UpstreamJob | undefined {
    return this.parseTask(body);
  }

  parseTask(raw: unknown): UpstreamJob | undefined {
    if (!raw || typeof raw !== 'object') return undefined;
    const task = raw as MjTask;
    if (task.id === undefined || task.id === null || task.id === '') return undefined;
    const upstreamId = String(task.id);
    const status = STATUS[String(task.status ?? '').toUpperCase()] ?? 'submitted';
    const image = typeof task.imageUrl === 'string' && task.imageUrl ? this.http.resolve(task.imageUrl) : undefined;
    if (status === 'failed') {
      const reason = task.failReason?.trim() || undefined;
      return { upstreamId, status, failReason: reason, ...(!reason && task.status === 'CANCEL' && { failCode: 'cancelled_upstream' as const }) };
    }
    if (status === 'succeeded' && String(task.action ?? '').toUpperCase() === 'DESCRIBE') {
      const text = [task.properties?.finalPrompt, task.promptEn, task.prompt].find((v): v is string => typeof v === 'string' && v.trim() !== '');
      const descriptions = text ? parseDescriptions(text) : [];
      if (descriptions.length === 0) return { upstreamId, status: 'failed', failCode: 'no_description' };
      return { upstreamId, status, progress: 100, imageUrls: [], actions: [], descriptions };
    }
    if (status === 'succeeded' && String(task.action ?? '').toUpperCase() === 'SHORTEN') {
      const text = [task.properties?.finalPrompt, task.description].find((v): v is string => typeof v === 'string' && v.includes('Shortened prompts'));
      const descriptions = text ? parseShortened(text) : [];
      if (descriptions.length === 0) return { upstreamId, status: 'failed', failCode: 'no_description' };
      return { upstreamId, status, progress: 100, imageUrls: [], actions: [], descriptions };
    }
    const videos = videoUrlsOf(task);
    if (status === 'succeeded' && (String(task.action ?? '').toUpperCase() === 'VIDEO' || videos.length > 0)) {
      if (videos.length === 0) return { upstreamId, status: 'failed', failReason: 'video:errors.notVideo' };
      const customIds = customIdsFromButtons(task.buttons);
      // Only the video buttons: a reroll under a batch of clips would make a batch of clips, not an image.
      const actions = INTERNAL_ACTIONS.filter((a) => customIds[a] && isVideoAction(a));
      return { upstreamId, status, progress: 100, imageUrls: videos.slice(0, 4).map((u) => this.http.resolve(u)), actions, upstreamData: { customIds } };
    }
    if (status === 'succeeded') {
      if (!image) return { upstreamId, status: 'failed', failCode: 'no_image' };
      const customIds = customIdsFromButtons(task.buttons);
      const fromButtons = Object.keys(customIds).length > 0;
      // Without buttons (open-source server) the grid offers what /change can do; a single image, nothing.
      // Manual Animate has no button of its own: offered where the image can be animated, through /mj/submit/video.
      const manual: Partial<Record<InternalAction, boolean>> = { 'animate:manual:low': Boolean(customIds['animate:low']), 'animate:manual:high': Boolean(customIds['animate:high']) };
      const actions: InternalAction[] = fromButtons
        ? INTERNAL_ACTIONS.filter((a) => customIds[a] || manual[a])
        : GRID_TASKS.has(String(task.action ?? '').toUpperCase()) ? [...GRID_ACTIONS] : [];
      // Vary (Region)'s button is kept apart: it is no InternalAction (it needs the editor's mask).
      const inpaint = Array.isArray(task.buttons)
        ? (task.buttons as Array<{ customId?: unknown }>).map((b) => b?.customId).find((c): c is string => typeof c === 'string' && c.startsWith('MJ::Inpaint::'))
        : undefined;
      // ✏️ Edit on an upscale of a plus server (trueai-org's /mj/submit/edits; V8 offers edits instead of zoom and pan).
      if (fromButtons && String(task.action ?? '').toUpperCase() === 'UPSCALE') actions.push('edit');
      return { upstreamId, status, progress: 100, imageUrls: [image], actions, upstreamData: fromButtons ? { customIds, ...(inpaint && { inpaintCustomId: inpaint }) } : {} };
    }
    // Held by Midjourney's moderation or refused, while the relay still shows the task going: it will never finish.
    const hold = heldBy(task);
    if (hold) return { upstreamId, status: 'failed', failReason: hold.words, failCode: hold.code };
    return { upstreamId, status, progress: parseProgress(task.progress) ?? 0, previewUrl: status === 'running' ? image : undefined };
  }

  /**
   * Vary (Region), as trueai-org/midjourney-proxy takes it (SubmitController.cs: `Action` maps `MJ::Inpaint::` to
   * INPAINT and answers 21, "waiting for the window"; `Modal` takes {taskId, prompt, maskBase64}): the button's
   * customId through /mj/submit/action, then the mask as a PNG data URL with the prompt through /mj/submit/modal.
   */
  /** Only results whose buttons include Vary (Region) (the open-source server lists no buttons at all). */
  inpaintable(upstreamData: Record<string, unknown> | null): boolean {
    return typeof upstreamData?.inpaintCustomId === 'string' && !this.noActionEndpoint;
  }

  async inpaint(req: InpaintRequest): Promise<Submitted> {
    const customId = req.parent.upstreamData?.inpaintCustomId;
    if (typeof customId !== 'string' || this.noActionEndpoint) throw new UpstreamRejected('errors.actionUnavailable');
    const notifyHook = req.callbackUrl ? { notifyHook: req.callbackUrl } : {};
    const opened = await this.post('mj/submit/action', { taskId: req.parent.upstreamId, customId, state: req.taskId, ...notifyHook });
    if (opened.code !== 21) return this.accepted(opened);
    const res = await this.http.json<SubmitResult>('mj/submit/modal', {
      body: { taskId: this.idOf(opened), prompt: req.prompt, maskBase64: `data:image/png;base64,${req.mask.toString('base64')}` },
    });
    const result = this.checked(res.body, res.status);
    return { upstreamId: result.result === undefined || result.result === null || result.result === '' ? this.idOf(opened) : String(result.result) };
  }

  private async submitModal(taskId: string, prompt: string): Promise<Submitted> {
    const res = await this.http.json<SubmitResult>('mj/submit/modal', { body: { taskId, prompt } });
    // No modal endpoint (open-source server): its code 21 meant "already exists", so follow that task.
    if (res.status === 404) return { upstreamId: taskId };
    const result = this.checked(res.body, res.status);
    return { upstreamId: result.result === undefined || result.result === null || result.result === '' ? taskId : String(result.result) };
  }

  private async post(path: string, body: unknown): Promise<SubmitResult> {
    const res = await this.http.json<SubmitResult>(path, { body });
    if (res.status === 404) throw new UpstreamAccountError('unavailable', `${path}: HTTP 404 (check UPSTREAM_BASE_URL: it should be the relay's origin, without /mj)`);
    return this.checked(res.body, res.status);
  }

  /** Maps the relay's result codes: 1 ok, 21 exists/modal, 22 queued (fine), 23 queue full, 24 banned prompt. */
  private checked(body: SubmitResult | undefined, httpStatus: number): SubmitResult {
    if (!body || typeof body !== 'object' || typeof body.code !== 'number') {
      throw new UpstreamAccountError('unavailable', `midjourney-proxy: HTTP ${httpStatus} without a result code`);
    }
    const description = body.description?.trim() || `code ${body.code}`;
    switch (body.code) {
      case 1:
      case 21:
      case 22:
        return body;
      case 23:
        throw new UpstreamAccountError('queue_full', `midjourney-proxy queue full: ${description}`);
      case 24: {
        const word = body.properties?.bannedWord;
        throw new UpstreamRejected(typeof word === 'string' && word ? `${description} (${word})` : description);
      }
      case 3:
        // The parent task is gone upstream: the button cannot work any more.
        throw new UpstreamRejected('errors.expired');
      default:
        throw new UpstreamRejected(description);
    }
  }

  private idOf(result: SubmitResult): string {
    if (result.result === undefined || result.result === null || result.result === '') {
      throw new UpstreamAccountError('unavailable', `midjourney-proxy accepted the job (code ${result.code}) without a task id`);
    }
    return String(result.result);
  }

  private accepted(result: SubmitResult): Submitted {
    return { upstreamId: this.idOf(result) };
  }
}

/** The proxy wants the pictures themselves: fetched from Discord's CDN now (size-capped, images only). */
export async function dataUris(images: InputImage[]): Promise<string[]> {
  return Promise.all(images.map(async (image) => {
    const { data, contentType } = await downloadInput(image);
    return `data:${contentType};base64,${data.toString('base64')}`;
  }));
}
