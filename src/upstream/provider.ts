// The contract every upstream adapter implements. The core only ever talks to this interface and decides
// what to show from `capabilities` and from what each job reports — never from a provider's name.
import type { ProviderId } from '../config.ts';
import type { SpeedMode } from '../db/schema.ts';
import type { InternalAction } from './actions.ts';
import type { FailCode } from './fail-codes.ts';

export type { FailCode } from './fail-codes.ts';

export interface Capabilities {
  /** Every action this provider can perform at all; a job's own `actions` says which apply to it. */
  actions: readonly InternalAction[];
  /** Results can be pushed to our webhook (otherwise polling only). */
  push: boolean;
  /** `fetch` takes many ids in one upstream call. */
  batchFetch: boolean;
  /** Reports a percentage while running. */
  progress: boolean;
  /** Gives a preview image while running. */
  previews: boolean;
  /** Input commands beyond /draw. */
  blend: boolean;
  describe: boolean;
  /** /draw takes image attachments (as image prompts); typed image URLs always go upstream as text. */
  imagePrompts?: boolean;
  /** /shorten: the relay asks Midjourney for shorter versions of a prompt (the job's `descriptions`). */
  shorten?: boolean;
  /** /animate: the relay animates an uploaded image (by its URL) into a batch of clips (`Provider.animate`). */
  animateImages?: boolean;
  /** /animate needs a motion prompt here (the relay's video endpoint requires one): /animate without one is refused. */
  animateNeedsPrompt?: boolean;
  /** 📋 on results: the relay can tell a finished job's seed (`Provider.seed`). */
  seed?: boolean;
  /** The relay translates Chinese prompts itself: the user is not told that the bot could not translate theirs. */
  translatesPrompts?: boolean;
  /** Vary (Region) on an upscaled image: `inpaint` takes a mask (the editor page needs PUBLIC_URL too). */
  inpaint?: boolean;
  /**
   * Remix: the actions for which this relay takes a new prompt (the task's own `prompt` in the action request).
   * With remix on, only these ask the user for the prompt again; the others run as without remix.
   */
  remix?: readonly InternalAction[];
}

/** An image a user attached (a Discord CDN URL): relays that take URLs get it, the others its bytes. */
export interface InputImage {
  url: string;
  contentType: string;
}

/** The largest image a user may attach (checked on Discord's attachment data, and again when downloaded). */
export const INPUT_IMAGE_MAX_BYTES = 8 * 1024 * 1024;

/** /blend's `dimensions` choice. */
export const BLEND_DIMENSIONS = ['portrait', 'square', 'landscape'] as const;
export type BlendDimensions = (typeof BLEND_DIMENSIONS)[number];
/** The aspect ratio of each blend shape, as Midjourney makes it. */
export const BLEND_RATIO: Record<BlendDimensions, string> = { portrait: '2:3', square: '1:1', landscape: '3:2' };

/** What the adapter needs to know about the job an action acts on. */
export interface ParentRef {
  upstreamId: string;
  upstreamData: Record<string, unknown> | null;
  imageUrls: string[];
  prompt: string;
}

/** Everything the dispatcher may submit. Blend and describe go only to providers whose capabilities say so. */
export type SubmitRequest =
  | { kind: 'imagine'; taskId: string; prompt: string; callbackUrl?: string; images?: InputImage[]; mode?: SpeedMode }
  | {
      kind: 'action';
      taskId: string;
      action: InternalAction;
      parent: ParentRef;
      callbackUrl?: string;
      /** This task's own prompt: for actions that take one (Custom Zoom, remix), it may differ from the parent's. */
      prompt?: string;
    }
  | { kind: 'blend'; taskId: string; images: InputImage[]; dimensions: BlendDimensions; callbackUrl?: string; mode?: SpeedMode }
  | { kind: 'describe'; taskId: string; image: InputImage; callbackUrl?: string };

/** Vary (Region): repaint the white part of `mask` (a PNG of the parent image's size) with `prompt`. */
export interface InpaintRequest {
  kind: 'inpaint';
  taskId: string;
  parent: ParentRef;
  prompt: string;
  mask: Buffer;
  callbackUrl?: string;
}

/**
 * /animate's job: a batch of four clips of an uploaded image, moving as `motion` says, after `prompt` (may be
 * empty). `endImage` is the frame to end on; `loop` ends on the first frame (never both). A method of its own
 * (`Provider.animate`), so adapters without it need no change.
 */
export interface AnimateRequest {
  kind: 'animate';
  taskId: string;
  image: InputImage;
  endImage?: InputImage;
  motion: 'low' | 'high';
  prompt: string;
  loop: boolean;
  callbackUrl?: string;
}

/** /shorten's job: a method of its own (`Provider.shorten`), so adapters without it need no change. */
export interface ShortenRequest {
  kind: 'shorten';
  taskId: string;
  prompt: string;
  callbackUrl?: string;
}

export type UpstreamStatus = 'submitted' | 'running' | 'succeeded' | 'failed';

/** A job as the upstream reports it, normalised. */
export interface UpstreamJob {
  upstreamId: string;
  status: UpstreamStatus;
  /** 0–100 when known. */
  progress?: number;
  previewUrl?: string;
  /** On success: the image to show first (the grid, or the single image), then any extra images. */
  imageUrls?: string[];
  /** On success: what the user may do next with this result. */
  actions?: InternalAction[];
  /** The relay's own words on failure (shown after the localized sentence of `failCode`), or a locale key of ours. */
  failReason?: string;
  /**
   * Why it failed, as a code (`relay:fail.<code>` in the locales); unset, the core reads it from `failReason`
   * (failCodeOf). A blocking code (moderation, banned prompt, invalid parameter) fails the job at once, even
   * while the relay still reports it waiting or running.
   */
  failCode?: FailCode;
  /** On success of a describe job: the suggested prompts (four); of a shorten job, the shortened prompts (up to five). */
  descriptions?: string[];
  /** Adapter-private data to keep on the task row (merged into what submit returned). */
  upstreamData?: Record<string, unknown>;
}

export interface Submitted {
  upstreamId: string;
  upstreamData?: Record<string, unknown>;
}

export interface DownloadedImage {
  data: Buffer;
  contentType: string;
}

export interface Provider {
  readonly id: ProviderId;
  readonly capabilities: Capabilities;
  submit(req: SubmitRequest): Promise<Submitted>;
  /** Vary (Region), where `capabilities.inpaint`; the job is then tracked like any other. */
  inpaint?(req: InpaintRequest): Promise<Submitted>;
  /** Whether this finished job (its adapter data) can be inpainted; unset: every upscaled image can. */
  inpaintable?(upstreamData: Record<string, unknown> | null): boolean;
  /**
   * The seed of a finished job (📋), or undefined when the relay cannot tell it for this one; present exactly
   * when `capabilities.seed` is set. Throws UpstreamRejected when the relay refuses.
   */
  seed?(job: ParentRef): Promise<string | undefined>;
  /** Submits a /shorten job; present exactly when `capabilities.shorten` is set. */
  shorten?(req: ShortenRequest): Promise<Submitted>;
  /** Submits an /animate job (its result is a video batch like Animate's); present exactly when `capabilities.animateImages` is set. */
  animate?(req: AnimateRequest): Promise<Submitted>;
  /** Current state of the given jobs; ids the upstream no longer knows are omitted. */
  fetch(ids: string[]): Promise<UpstreamJob[]>;
  /** Images the provider serves itself (the simulator); otherwise the core downloads over HTTP. */
  download?(url: string): Promise<DownloadedImage>;
  /**
   * Normalises a pushed callback body (the receiver has already checked the per-task secret).
   * Returns undefined for a body that is not a job update.
   */
  parseWebhook?(body: unknown): UpstreamJob | undefined;
  /**
   * Stops a job the upstream has not finished (❌ on a running job). Only relays with a cancel endpoint have
   * it; throws UpstreamRejected when the relay refuses (already finished, not cancellable).
   */
  cancel?(upstreamId: string): Promise<void>;
  /**
   * Finds the job this bot submitted for `taskId` (sent with the submission, e.g. as midjourney-proxy's
   * `state`), or undefined when the relay has none. Relays that can answer this let the dispatcher resolve a
   * submission whose outcome it never learned (a timeout, a crash) without submitting the job twice.
   */
  lookup?(taskId: string): Promise<UpstreamJob | undefined>;
}

/** An upstream refusal of this one job the user should hear about (banned prompt, bad parameter...). */
export class UpstreamRejected extends Error {
  /** `code` says why, when the adapter knows (otherwise it is read from the message). */
  constructor(
    message: string,
    readonly code?: FailCode,
  ) {
    super(message);
  }
}

/**
 * A problem with the relay account or service rather than the job: the admin needs the detail (logged),
 * the user gets a polite localized sentence. Transient kinds are retried with backoff before the job fails.
 */
export class UpstreamAccountError extends Error {
  constructor(
    readonly kind: 'auth' | 'balance' | 'queue_full' | 'rate_limited' | 'unavailable',
    message: string,
  ) {
    super(message);
  }

  get transient(): boolean {
    return this.kind === 'queue_full' || this.kind === 'rate_limited' || this.kind === 'unavailable';
  }
}
