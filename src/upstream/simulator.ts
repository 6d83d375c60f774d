// The default upstream: makes real placeholder images locally so the bot works with nothing but a Discord
// token. Jobs are stateless — the id encodes prompt, action, seed and start time — so progress and images
// can be recomputed after a restart exactly as a relay would still report them.
import { randomInt } from 'node:crypto';
import sharp from '../sharp.ts';
import { downloadInput } from './download.ts';
import { aspectRatio } from '../prompt/validate.ts';
import { ANIMATE_ACTIONS, EXTEND_ACTIONS, GRID_ACTIONS, SINGLE_ACTIONS, VIDEO_ACTIONS, VIDEO_PICKS, actionIndex, isManualAnimate, isVideoAction, isVideoJob, resultIsGrid, videoMotion, videoPickIndex, type InternalAction, type TaskAction } from './actions.ts';
import { BLEND_RATIO, UpstreamRejected, type AnimateRequest, type Capabilities, type InputImage, type DownloadedImage, type InpaintRequest, type Provider, type Submitted, type UpstreamJob, type SubmitRequest } from './provider.ts';
import { withModeParam } from './parse.ts';
import { compactMask, renderClip, renderGrid, renderPreview, renderRegionGrid, renderSingle, type ImageSpec } from './simulator-images.ts';

interface SimJob {
  /** prompt */
  p: string;
  /** action that made it */
  a: TaskAction;
  /** seed */
  s: number;
  /** quadrant shown, for single images */
  q?: number;
  /** long side in pixels, for single images */
  z?: number;
  /** start time (ms) */
  t: number;
  /** images it started from (image prompts, blend, describe) */
  n?: number;
  /** video: motion, clip length (s), and the clip picked (absent: the batch of four) */
  m?: 'low' | 'high';
  d?: number;
  c?: number;
  /** /animate: the uploaded image (a small JPEG, base64) and its size, the end frame (likewise), and loop (1) */
  i?: string;
  r?: [number, number];
  e?: string;
  l?: 1;
  /** Vary (Region): the upscaled job it repaints, and the mask (a 1-bit PNG, base64) of where */
  b?: SimJob;
  k?: string;
}

const PREFIX = 'sim-';
/** Progress reported at each step after the first (queued) one; the job completes one step after the last. */
const PROGRESS_STEPS = [0, 15, 38, 62, 85];

const AFTER_UPSCALE: InternalAction[] = [...SINGLE_ACTIONS.filter((a) => !['zoom:custom', 'upscale:subtle', 'upscale:creative'].includes(a)), ...ANIMATE_ACTIONS];
/** Seconds of a new clip and what each Extend adds (Midjourney: 5 s and about 4 s; shorter here, to stay small). */
const CLIP_SECONDS = 2;
const EXTEND_SECONDS = 1;
/** Clips in an Animate batch. */
const VIDEO_BATCH = 4;
const AFTER_BIG_UPSCALE: InternalAction[] = AFTER_UPSCALE.filter((a) => !a.startsWith('upscale:'));

/** The long side of an /animate image as the job keeps it (in its id: small; a clip frame is 480 px, so a little soft). */
const STILL_SIDE = 320;
const UPSCALE_SIZE: Record<string, number> = { 'upscale:2x': 2048, 'upscale:4x': 4096, 'upscale:subtle': 2048, 'upscale:creative': 2048 };

const LABELS: Record<string, string> = {
  imagine: 'Imagine', blend: 'Blend', reroll: 'Reroll', 'vary:subtle': 'Vary (Subtle)', 'vary:strong': 'Vary (Strong)',
  'zoom:2': 'Zoom Out 2x', 'zoom:1.5': 'Zoom Out 1.5x', 'zoom:custom': 'Custom Zoom',
  'animate:manual:low': 'Animate (Manual, Low motion)', 'animate:manual:high': 'Animate (Manual, High motion)',
  'animate:low': 'Animate (Low motion)', 'animate:high': 'Animate (High motion)', 'extend:low': 'Extend (Low motion)', 'extend:high': 'Extend (High motion)',
  animate: 'Animate', 'vary:region': 'Vary (Region)', 'pan:left': 'Pan Left', 'pan:right': 'Pan Right', 'pan:up': 'Pan Up', 'pan:down': 'Pan Down',
};
const label = (a: TaskAction) => LABELS[a] ?? a.replace(/^(\w)(\w*):(\w+)$/, (_, f: string, r: string, n: string) => `${f.toUpperCase()}${r} ${n}`);

const encode = (job: SimJob) => PREFIX + Buffer.from(JSON.stringify(job)).toString('base64url');
function decode(id: string): SimJob | undefined {
  if (!id.startsWith(PREFIX)) return undefined;
  try {
    const job = JSON.parse(Buffer.from(id.slice(PREFIX.length), 'base64url').toString('utf8')) as SimJob;
    return typeof job.p === 'string' && typeof job.s === 'number' && typeof job.t === 'number' ? job : undefined;
  } catch {
    return undefined;
  }
}

const newSeed = () => randomInt(0, 2 ** 31);

/** Remix: V1–V4, 🔄, Vary and pans take a new prompt, as on Midjourney. */
const REMIX: readonly InternalAction[] = [...GRID_ACTIONS.filter((a) => !a.startsWith('upscale:')), 'vary:subtle', 'vary:strong', 'pan:left', 'pan:right', 'pan:up', 'pan:down'];

export class SimulatorProvider implements Provider {
  readonly id = 'simulator' as const;
  readonly capabilities: Capabilities = {
    actions: [...GRID_ACTIONS, ...SINGLE_ACTIONS, ...VIDEO_ACTIONS],
    push: false,
    batchFetch: true,
    progress: true,
    previews: true,
    blend: true,
    describe: true,
    imagePrompts: true,
    inpaint: true,
    // /animate: the uploaded image itself, moving (an end image faded into at the end; loop returns to the start).
    animateImages: true,
    // The new grid is drawn with the task's own prompt (written on the image).
    remix: REMIX,
  };
  readonly notice =
    'UPSTREAM_PROVIDER=simulator: images are PLACEHOLDERS drawn locally, not Midjourney. To generate real images set UPSTREAM_PROVIDER, UPSTREAM_BASE_URL and UPSTREAM_API_KEY for your relay account (see README → Upstreams).';

  constructor(
    private readonly stepMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async submit(req: SubmitRequest): Promise<Submitted> {
    const t = this.now();
    // The mode rides in the prompt as Midjourney reads it; the simulator renders at one speed whatever it says.
    if (req.kind === 'imagine') return { upstreamId: encode({ p: withModeParam(req.prompt, req.mode), a: 'imagine', s: newSeed(), t, ...(req.images?.length && { n: req.images.length }) }) };
    if (req.kind === 'blend') return { upstreamId: encode({ p: `--ar ${BLEND_RATIO[req.dimensions]}`, a: 'blend', s: newSeed(), t, n: req.images.length }) };
    if (req.kind === 'describe') return { upstreamId: encode({ p: '', a: 'describe', s: newSeed(), t, n: 1 }) };
    const parent = decode(req.parent.upstreamId);
    if (!parent) throw new Error('simulator: unknown parent job');
    const { action } = req;
    const index = actionIndex(action);
    let job: SimJob;
    if (isVideoAction(action)) job = { ...videoJob(parent, action, t), ...(isManualAnimate(action) && req.prompt && { p: req.prompt }) };
    else if (action.startsWith('upscale:') && index) job = { p: parent.p, a: action, s: parent.s, q: index, z: 1024, t };
    else if (action.startsWith('upscale:')) job = { p: parent.p, a: action, s: parent.s, q: parent.q ?? 1, z: UPSCALE_SIZE[action] ?? 2048, t };
    else job = { p: REMIX.includes(action) && req.prompt !== undefined ? req.prompt : parent.p, a: action, s: newSeed(), t };
    return { upstreamId: encode(job) };
  }

  /** Vary (Region): the job keeps the upscaled image it repaints and the mask, so its grid can be redrawn any time. */
  async inpaint(req: InpaintRequest): Promise<Submitted> {
    const parent = decode(req.parent.upstreamId);
    if (!parent || !parent.a.startsWith('upscale:')) throw new Error('simulator: Vary (Region) needs an upscaled image');
    return { upstreamId: encode({ p: req.prompt, a: 'vary:region', s: newSeed(), t: this.now(), b: parent, k: (await compactMask(req.mask)).toString('base64') }) };
  }

  /**
   * /animate: the image is fetched now (its Discord link will not last) and kept in the job's id, small (a still
   * the size of a clip frame, as JPEG), with the end frame; so picks and Extends of the batch animate it too.
   */
  async animate(req: AnimateRequest): Promise<Submitted> {
    const start = await this.still(req.image);
    const end = req.endImage && (await this.still(req.endImage));
    const job: SimJob = { p: req.prompt, a: 'animate', s: newSeed(), t: this.now(), m: req.motion, d: CLIP_SECONDS, i: start.data, r: start.size, ...(end && { e: end.data }), ...(req.loop && { l: 1 }) };
    return { upstreamId: encode(job) };
  }

  private async still(image: InputImage): Promise<{ data: string; size: [number, number] }> {
    const bytes = (await downloadInput(image)).data;
    try {
      const { data, info } = await sharp(bytes).rotate().resize(STILL_SIDE, STILL_SIDE, { fit: 'inside', withoutEnlargement: true }).flatten({ background: '#000' }).jpeg({ quality: 60 }).toBuffer({ resolveWithObject: true });
      return { data: data.toString('base64'), size: [info.width, info.height] };
    } catch {
      // Discord said it was an image; its bytes say otherwise.
      throw new UpstreamRejected('images:errors.downloadFailed');
    }
  }

  /** The mask a Vary (Region) job was given (what a relay received), as a PNG; undefined for other jobs. */
  static maskOf(upstreamId: string): Buffer | undefined {
    const k = decode(upstreamId)?.k;
    return k ? Buffer.from(k, 'base64') : undefined;
  }

  async fetch(ids: string[]): Promise<UpstreamJob[]> {
    const out: UpstreamJob[] = [];
    for (const upstreamId of ids) {
      const job = decode(upstreamId);
      if (!job) continue;
      const step = Math.floor((this.now() - job.t) / this.stepMs);
      if (step <= 0) out.push({ upstreamId, status: 'submitted', progress: 0 });
      else if (step < PROGRESS_STEPS.length) {
        const progress = PROGRESS_STEPS[step]!;
        out.push({ upstreamId, status: 'running', progress, previewUrl: `simulator://${upstreamId}/preview/${progress}` });
      } else if (job.a === 'describe') {
        out.push({ upstreamId, status: 'succeeded', progress: 100, imageUrls: [], actions: [], descriptions: describePlaceholders(job.s) });
      } else if (isVideoJob(job.a)) {
        const clips = job.c ? [job.c] : Array.from({ length: VIDEO_BATCH }, (_, i) => i + 1);
        out.push({
          upstreamId,
          status: 'succeeded',
          progress: 100,
          imageUrls: clips.map((c) => `simulator://${upstreamId}/clip/${c}`),
          actions: job.c ? [...EXTEND_ACTIONS] : [...VIDEO_PICKS],
        });
      } else {
        const grid = resultIsGrid(job.a);
        out.push({
          upstreamId,
          status: 'succeeded',
          progress: 100,
          imageUrls: [`simulator://${upstreamId}/${grid ? 'grid' : 'single'}`],
          actions: grid ? [...GRID_ACTIONS] : job.a in UPSCALE_SIZE ? AFTER_BIG_UPSCALE : AFTER_UPSCALE,
        });
      }
    }
    return out;
  }

  /**
   * ❌ on a running job. Jobs are stateless (the id is the job), so there is nothing to stop here: once the task
   * row is cancelled nobody polls the id again and its image is never drawn. A result already stored still wins
   * (the cancel transition is guarded on it).
   */
  async cancel(upstreamId: string): Promise<void> {
    if (!decode(upstreamId)) throw new UpstreamRejected('errors.expired');
  }

  async download(url: string): Promise<DownloadedImage> {
    const m = /^simulator:\/\/([^/]+)\/(grid|single|preview|clip)(?:\/(\d+))?$/.exec(url);
    const job = m && decode(m[1]!);
    if (!m || !job) throw new Error(`simulator: not a simulator image: ${url.slice(0, 80)}`);
    const spec: ImageSpec = { seed: job.s, prompt: job.p, ratio: job.r ? { w: job.r[0], h: job.r[1] } : aspectRatio(job.p), label: job.n ? `${label(job.a)} · ${job.n} image${job.n > 1 ? 's' : ''}` : label(job.a) };
    if (job.b && job.k && m[2] !== 'preview') {
      // The upscaled image it started from, four times, each with the masked area visibly repainted.
      const base = job.b;
      const baseSpec: ImageSpec = { seed: base.s, prompt: base.p, ratio: aspectRatio(base.p), label: label(base.a) };
      return { data: await renderRegionGrid(baseSpec, base.q ?? 1, base.z ?? 1024, Buffer.from(job.k, 'base64'), { ...spec, ratio: baseSpec.ratio }), contentType: 'image/png' };
    }
    if (m[2] === 'preview') return { data: await renderPreview(spec, Number(m[3] ?? 0), job.q), contentType: 'image/jpeg' };
    if (m[2] === 'clip') {
      const source = job.i ? { image: Buffer.from(job.i, 'base64'), ...(job.e && { end: Buffer.from(job.e, 'base64') }), loop: job.l === 1 } : undefined;
      const data = await renderClip(spec, job.q ?? 1, { clip: Number(m[3] ?? 1), seconds: job.d ?? CLIP_SECONDS, motion: job.m ?? 'low' }, source);
      return { data, contentType: 'video/mp4' };
    }
    if (m[2] === 'grid') return { data: await renderGrid(spec), contentType: 'image/png' };
    const size = job.z ?? 1024;
    return { data: await renderSingle(spec, job.q ?? 1, size), contentType: size > 2048 ? 'image/jpeg' : 'image/png' };
  }
}

/** Animate starts a batch of clips of an image; a pick shows one; Extend makes the picked clip longer. */
function videoJob(parent: SimJob, action: InternalAction & TaskAction, t: number): SimJob {
  // An /animate batch's picks and Extends move its uploaded image too.
  const uploaded = parent.i ? { i: parent.i, r: parent.r, ...(parent.e && { e: parent.e }), ...(parent.l && { l: parent.l }) } : {};
  const base = { p: parent.p, a: action, s: parent.s, q: parent.q ?? 1, t, ...uploaded };
  if (action.startsWith('animate:')) return { ...base, m: videoMotion(action as never) ?? 'low', d: CLIP_SECONDS };
  const pick = videoPickIndex(action);
  if (pick) return { ...base, m: parent.m, d: parent.d ?? CLIP_SECONDS, c: pick };
  // Extend: the same clip, longer, moving as asked.
  return { ...base, m: videoMotion(action as never) ?? parent.m, d: (parent.d ?? CLIP_SECONDS) + EXTEND_SECONDS, c: parent.c ?? 1 };
}

const SUBJECTS = ['a lighthouse on a cliff', 'a red fox in the snow', 'a city street at night', 'a bowl of ripe fruit', 'an old sailing ship', 'a quiet mountain lake'];
const STYLES = ['watercolor', 'cinematic lighting', 'oil painting', 'isometric 3d render', 'soft pastel colors', 'film photograph'];

/** Four placeholder prompts, the way /describe words them (the simulator cannot see the picture). */
function describePlaceholders(seed: number): string[] {
  return [0, 1, 2, 3].map((i) => {
    const subject = SUBJECTS[(seed + i) % SUBJECTS.length]!;
    const style = STYLES[(seed + 2 * i + 1) % STYLES.length]!;
    return `${subject}, ${style}, simulated description ${i + 1} --ar 3:2`;
  });
}
