// Provider-neutral actions. Buttons carry these (never a provider's own ids), so a click resolves from our
// database alone and works after a restart; each adapter maps them to its own calls.

export const GRID_ACTIONS = [
  'upscale:1', 'upscale:2', 'upscale:3', 'upscale:4',
  'reroll',
  'variation:1', 'variation:2', 'variation:3', 'variation:4',
] as const;

export const SINGLE_ACTIONS = [
  'vary:subtle', 'vary:strong',
  'zoom:2', 'zoom:1.5', 'zoom:custom',
  'pan:left', 'pan:right', 'pan:up', 'pan:down',
  'upscale:2x', 'upscale:4x', 'upscale:subtle', 'upscale:creative',
] as const;

/**
 * Video (Midjourney's Animate): an image's Animate makes a batch of clips; a pick shows one of them, which can be
 * extended (about 4 s longer each time). A video job's result URLs are clips, not images.
 */
export const ANIMATE_ACTIONS = ['animate:low', 'animate:high', 'animate:manual:low', 'animate:manual:high'] as const;
export const VIDEO_PICKS = ['video:pick:1', 'video:pick:2', 'video:pick:3', 'video:pick:4'] as const;
export const EXTEND_ACTIONS = ['extend:low', 'extend:high'] as const;
export const VIDEO_ACTIONS = [...ANIMATE_ACTIONS, ...VIDEO_PICKS, ...EXTEND_ACTIONS] as const;
export type VideoAction = (typeof VIDEO_ACTIONS)[number];

/** ✏️ Edit on an upscale: a new prompt over that image (relays with an edit endpoint offer it per job). */
export const EDIT_ACTIONS = ['edit'] as const;

export const INTERNAL_ACTIONS = [...GRID_ACTIONS, ...SINGLE_ACTIONS, ...VIDEO_ACTIONS, ...EDIT_ACTIONS] as const;
export type InternalAction = (typeof INTERNAL_ACTIONS)[number];
/** Jobs started by a command rather than a button: /draw, /blend, /describe, /shorten, /animate. */
export type InputAction = 'imagine' | 'blend' | 'describe' | 'shorten' | 'animate';
/** /animate: an uploaded image animated into a batch of clips, like an upscale's Animate button. */
export const ANIMATE_IMAGE = 'animate';
/**
 * 🖌️ Vary (Region): repaints the part of an upscaled image the user marks in the bot's editor page. Not an
 * InternalAction: it needs a mask, so it goes to a provider's `inpaint`, never its `submit`.
 */
export const VARY_REGION = 'vary:region';
export type TaskAction = InputAction | InternalAction | typeof VARY_REGION;

/** The 1️⃣–4️⃣ buttons under a /describe result: each starts a /draw of that suggested prompt. */
export const DESCRIBE_PICKS = ['describe:1', 'describe:2', 'describe:3', 'describe:4'] as const;
export type DescribePick = (typeof DESCRIBE_PICKS)[number];
/** The 1️⃣–5️⃣ buttons under a /shorten result: each starts a /draw of that shortened prompt. */
export const SHORTEN_PICKS = ['shorten:1', 'shorten:2', 'shorten:3', 'shorten:4', 'shorten:5'] as const;
export type ShortenPick = (typeof SHORTEN_PICKS)[number];
/** What a button can carry: an action on the job's image, or a pick of one of its suggested prompts. */
export type ButtonAction = InternalAction | DescribePick | ShortenPick;

const SHORTEN_SET: ReadonlySet<string> = new Set(SHORTEN_PICKS);
export function isShortenPick(value: string): value is ShortenPick {
  return SHORTEN_SET.has(value);
}

/** The number of a shorten pick (shorten:5 → 5). */
export const shortenIndex = (pick: ShortenPick) => Number(pick.slice('shorten:'.length));

const PICK_SET: ReadonlySet<string> = new Set(DESCRIBE_PICKS);
export function isDescribePick(value: string): value is DescribePick {
  return PICK_SET.has(value);
}

/** The number of a describe pick (describe:3 → 3). */
export const pickIndex = (pick: DescribePick) => Number(pick.slice('describe:'.length));

const ACTION_SET: ReadonlySet<string> = new Set(INTERNAL_ACTIONS);
export function isInternalAction(value: string): value is InternalAction {
  return ACTION_SET.has(value);
}

const VIDEO_SET: ReadonlySet<string> = new Set(VIDEO_ACTIONS);
/** Jobs whose result is video (clips to upload), and the buttons that start them. */
export function isVideoAction(value: string): value is VideoAction {
  return VIDEO_SET.has(value);
}

/** Every job whose result is video: the buttons' video actions and /animate's job (counted VIDEO_QUOTA_WEIGHT). */
export const VIDEO_JOB_ACTIONS: readonly string[] = [...VIDEO_ACTIONS, ANIMATE_IMAGE];
const VIDEO_JOB_SET: ReadonlySet<string> = new Set(VIDEO_JOB_ACTIONS);
export function isVideoJob(action: string): boolean {
  return VIDEO_JOB_SET.has(action);
}

/** The motion an Animate or Extend asks for (animate:high → high). */
export const videoMotion = (action: VideoAction): 'low' | 'high' | undefined =>
  action.endsWith(':low') ? 'low' : action.endsWith(':high') ? 'high' : undefined;

/** Manual Animate: the user writes the motion prompt (a modal prefilled with the image's prompt) first. */
export const isManualAnimate = (action: string): action is 'animate:manual:low' | 'animate:manual:high' => action === 'animate:manual:low' || action === 'animate:manual:high';

/** The clip a video pick shows (video:pick:3 → 3). */
export function videoPickIndex(action: TaskAction): number | undefined {
  const m = /^video:pick:([1-4])$/.exec(action);
  return m ? Number(m[1]) : undefined;
}

/** U1–U4 pick one image out of a grid; every other action makes a new grid, except the upscalers of a single image. */
export function resultIsGrid(action: TaskAction): boolean {
  return !action.startsWith('upscale:');
}

/** The quadrant an action refers to (U2 → 2), if any. */
export function actionIndex(action: TaskAction): number | undefined {
  const m = /^(?:upscale|variation):([1-4])$/.exec(action);
  return m ? Number(m[1]) : undefined;
}
