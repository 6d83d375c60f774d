// Delivery: everything a job shows the user after it was accepted. Final messages (the result uploaded with its
// buttons, a failure, a cancellation) come from the outbox — rows whose `delivery_due` is set — on a loop of their
// own: leased, sent, recorded; on any error tried again with exponential backoff (1 s doubling to 30 s, ±20 %
// jitter) until DELIVERY_GIVE_UP_MINUTES, so a Discord or CDN outage of many minutes only delays them. Progress
// and queue-position edits are best effort: throttled per job, dropped (never queued) when the budget is spent,
// and never sent after the job's final message.
import type { Task } from '../db/schema.ts';
import { discordError, isDeadTokenError, type Delivered, type DeliveryTarget, type Messenger } from '../messages/messenger.ts';
import { isFailCode, isLocaleKey } from '../upstream/fail-codes.ts';
import { cancelledMessage, describedMessage, shortenedMessage, failedMessage, progressMessage, queuedMessage, resultMessage, videoResultMessage, waitingMessage, type OutgoingFile, type OutgoingMessage } from '../messages/render.ts';
import { translator } from '../i18n.ts';
import { retryDatabase } from '../db/retry.ts';
import type { Logger } from '../log.ts';
import { jobsFinished } from '../metrics.ts';
import type { Accounts } from '../upstream/accounts.ts';
import type { DownloadedImage } from '../upstream/provider.ts';
import { isVideoJob } from '../upstream/actions.ts';
import { shrinkVideo } from '../video.ts';
import { downloadImage, downloadVideo } from '../upstream/download.ts';
import { DISCORD_UPLOAD_LIMIT, extensionFor, fitUploadLimit } from './images.ts';
import type { Lifecycle } from './lifecycle.ts';
import { Loop } from './loop.ts';
import type { TaskRepo } from './repo.ts';

/** How long one attempt may hold a final message before another attempt (or instance) may take it. */
const LEASE_MS = 120_000;
/** Final messages being sent at once, in all and per relay account (whose CDN serves the images). */
const MAX_SENDING = 32;
const MAX_SENDING_PER_ACCOUNT = 8;
/** How often the outbox is read when nothing kicks it (a due retry, another instance's failure). */
const OUTBOX_POLL_MS = 1_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** A result whose image cannot be downloaded this many times in a row is given up (the relay's link is dead). */
const DOWNLOAD_ATTEMPTS = 6;
/** Progress and position edits per second across all jobs, and at most this many in flight: the rest are dropped. */
const EDITS_PER_SECOND = 40;
const MAX_EDITS_IN_FLIGHT = 40;
/** A final message waits at most this long for the job's own edit in flight to land first. */
const EDIT_DRAIN_MS = 10_000;
/** Finished jobs remembered so a late progress edit is dropped (a poll that read the row before the result). */
const FINALIZED_MEMORY = 10_000;

export interface DeliveryOptions {
  owner: bigint;
  progressIntervalMs: number;
  giveUpMinutes: number;
  /** Whether a result gets 🖌️ Vary (Region) (src/editor decides); unset: never. */
  regionEditor?: (task: Task) => boolean;
}

/** The image of a stored result could not be fetched (as opposed to Discord refusing the message). */
class DownloadFailed extends Error {}

/** Backoff before attempt `n + 1` after `n` failed ones. */
export function backoffMs(attempts: number, random = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** The part of a result file's name that names its task (`grid_1a2b3c4d.png`): how an upload is recognised. */
const resultMarker = (task: Pick<Task, 'id'>) => `_${task.id.slice(0, 8)}.`;

export class Delivery {
  readonly loop: Loop;
  /** Final messages being sent by this process, by task, with their relay account. */
  private readonly sending = new Map<string, string>();
  /** Per-task chain of best-effort edits: keeps them in order and tells whether one is in flight. */
  private readonly edits = new Map<string, Promise<void>>();
  private readonly lastEdit = new Map<string, { at: number; progress: number }>();
  private readonly finalized = new Set<string>();
  private bucket = { tokens: EDITS_PER_SECOND, at: Date.now() };

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly repo: TaskRepo,
    private readonly messenger: Messenger,
    private readonly accounts: Accounts,
    private readonly log: Logger,
    private readonly opts: DeliveryOptions,
  ) {
    this.loop = new Loop('delivery', () => this.pass(), log, OUTBOX_POLL_MS, 20);
  }

  start(): void {
    this.loop.start();
  }

  /** A final message became due: look at the outbox now. */
  kick(): void {
    this.loop.kick();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Resolves when every send under way has finished (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.sending.size > 0 || this.edits.size > 0) {
      await Promise.allSettled([...this.edits.values(), new Promise((r) => setTimeout(r, 50))]);
    }
  }

  private async pass(): Promise<void> {
    const free = MAX_SENDING - this.sending.size;
    if (free <= 0) return;
    const perAccount = new Map<string, number>();
    for (const account of this.sending.values()) perAccount.set(account, (perAccount.get(account) ?? 0) + 1);
    const full = [...perAccount].filter(([, n]) => n >= MAX_SENDING_PER_ACCOUNT).map(([a]) => a);
    const leased = await this.lifecycle.leaseDeliveries(this.opts.owner, free, LEASE_MS, [...this.sending.keys()], full);
    for (const task of leased) {
      this.sending.set(task.id, task.account ?? '');
      void this.send(task).finally(() => {
        this.sending.delete(task.id);
        // A freed slot may serve a message that waited for it.
        this.loop.kick();
      });
    }
  }

  /** One attempt at a final message; its outcome is recorded under the lease it was taken with. */
  private async send(task: Task): Promise<void> {
    try {
      this.finalize(task.id);
      // The job's own edit in flight lands first, so it can never overwrite the final message.
      await Promise.race([this.edits.get(task.id), new Promise((r) => setTimeout(r, EDIT_DRAIN_MS))]);
      // An earlier attempt may have reached Discord before its process died: a result already shown is recorded,
      // not uploaded again.
      const shown = task.deliveryUnsure && task.status === 'running' ? await this.messenger.findUpload(this.target(task), resultMarker(task)) : undefined;
      if (shown) this.log.warn({ taskId: task.id, via: shown.via }, 'the result was already on Discord (an earlier attempt got through unrecorded): not sent again');
      const sent = shown ?? (await this.finalMessage(task));
      // Discord shows it now: record it even across a database restart, or it would be sent again.
      const done = await retryDatabase(() => this.lifecycle.delivered(task, sent.messageId), { log: this.log, context: { taskId: task.id } });
      if (!done) return void this.log.warn({ taskId: task.id }, 'final message sent after its lease was lost');
      jobsFinished.inc({ status: done.status, account: task.account ?? '' });
      this.log.info({ taskId: task.id, status: done.status, via: sent.via, attempts: done.deliveryAttempts }, done.status === 'succeeded' ? 'result delivered' : 'final message delivered');
    } catch (err) {
      await this.failed(task, err).catch((e: unknown) => this.log.error({ err: e, taskId: task.id }, 'could not record a failed delivery; its lease runs out and it is tried again'));
    }
  }

  private async failed(task: Task, err: unknown): Promise<void> {
    const attempts = task.deliveryAttempts + 1;
    if (isDeadTokenError(err)) await this.lifecycle.tokenDead(task.id);
    if (err instanceof DownloadFailed && attempts >= DOWNLOAD_ATTEMPTS) {
      this.log.error({ err, taskId: task.id, attempts }, 'the result image cannot be fetched; the job fails');
      if (await this.lifecycle.resultUnusable(task)) this.kick();
      return;
    }
    const since = (task.deliverySince ?? new Date()).getTime();
    if (Date.now() - since >= this.opts.giveUpMinutes * 60_000) {
      await this.lifecycle.abandonDelivery(task);
      this.log.error({ err, taskId: task.id, attempts, giveUpMinutes: this.opts.giveUpMinutes }, 'gave up on a final message: Discord did not take it within the limit');
      return;
    }
    const waitMs = backoffMs(attempts);
    this.log.warn({ err, taskId: task.id, attempts, retryInMs: waitMs }, 'final message not delivered; trying again');
    await this.lifecycle.retryDelivery(task, new Date(Date.now() + waitMs));
  }

  private finalMessage(task: Task): Promise<Delivered> {
    const target = this.target(task);
    if (task.status === 'cancelled') return this.messenger.deliver(target, cancelledMessage(task, task.cancelledBy ?? task.userId));
    if (task.status === 'failed') return this.messenger.deliver(target, failedMessage(task, this.reasonText(task)));
    if (task.action === 'describe') {
      if (!task.descriptions?.length) throw new DownloadFailed('finished describe job has no prompts');
      return this.messenger.deliver(target, describedMessage(task));
    }
    if (task.action === 'shorten') {
      if (!task.descriptions?.length) throw new DownloadFailed('finished shorten job has no prompts');
      return this.messenger.deliver(target, shortenedMessage(task));
    }
    if (isVideoJob(task.action)) return this.deliverVideo(task, target);
    return this.deliverImage(task, target);
  }

  private reasonText(task: Task): string {
    const t = translator(task.locale);
    const reason = task.failReason ?? 'errors.upstreamUnavailable';
    // Our own reasons are locale keys (`errors.x`, or `ns:errors.x` from another namespace); the rest is upstream text.
    if (isLocaleKey(reason)) return t(reason);
    // A relay's reason code: our sentence (what happened, what to do) in the user's language, then the relay's words.
    const code = isFailCode(task.failCode) && task.failCode !== 'relay_error' ? task.failCode : undefined;
    if (!code) return reason ? t('errors.upstreamFailed', { reason }) : t('errors.upstreamNoReason');
    return reason ? `${t(`relay:fail.${code}`)} ${t('relay:said', { reason })}` : t(`relay:fail.${code}`);
  }

  /**
   * Uploads the result image, fitted to the upload limit the job's interaction told (10 MiB when none). Discord's
   * limit can still be lower (it dropped since, or none was told): on 413 the image is re-encoded at half the size
   * and sent again, twice at most.
   */
  private async deliverImage(task: Task, target: DeliveryTarget): Promise<Delivered> {
    const url = task.imageUrls?.[0];
    if (!url) throw new DownloadFailed('finished job has no image');
    let original: DownloadedImage;
    try {
      original = await downloadImage(this.accounts.providerFor(task), url);
    } catch (err) {
      throw new DownloadFailed(`result image: ${(err as Error).message}`, { cause: err });
    }
    let limit = task.uploadLimit ?? DISCORD_UPLOAD_LIMIT;
    for (let attempt = 0; ; attempt++) {
      const image = await fitUploadLimit(original, limit);
      try {
        return await this.messenger.deliver(target, this.imageMessage(task, image));
      } catch (err) {
        if (discordError(err)?.status !== 413 || attempt >= 2) throw err;
        limit = Math.floor(image.data.length / 2);
        this.log.warn({ taskId: task.id, bytes: image.data.length, retryLimit: limit }, 'Discord refused the upload as too large; sending it smaller');
      }
    }
  }

  /**
   * Uploads a video job's clips (a batch of up to four, or the one picked or extended) as MP4 files. A clip over
   * the limit the interaction told (10 MiB when none) is re-encoded smaller; Discord's limit can still be lower,
   * so on 413 the limit is lowered to 70 % of the largest clip and the clips fitted again. A clip that cannot fit is left out with a note.
   */
  private async deliverVideo(task: Task, target: DeliveryTarget): Promise<Delivered> {
    const urls = (task.imageUrls ?? []).slice(0, 4);
    if (urls.length === 0) throw new DownloadFailed('finished video job has no clip');
    const provider = this.accounts.providerFor(task);
    let clips: Buffer[];
    try {
      clips = (await Promise.all(urls.map((url) => downloadVideo(provider, url)))).map((c) => c.data);
    } catch (err) {
      throw new DownloadFailed(`result video: ${(err as Error).message}`, { cause: err });
    }
    const t = translator(task.locale);
    let limit = task.uploadLimit ?? DISCORD_UPLOAD_LIMIT;
    for (let attempt = 0; ; attempt++) {
      const fitted = await Promise.all(clips.map((clip) => shrinkVideo(clip, limit)));
      const files = fitted.flatMap((data, i) => (data ? [{ name: `video_${i + 1}${resultMarker(task)}mp4`, data, contentType: 'video/mp4' }] : []));
      const note = files.length < clips.length ? t('video:tooLarge') : undefined;
      try {
        return await this.messenger.deliver(target, videoResultMessage(task, files, note));
      } catch (err) {
        if (discordError(err)?.status !== 413 || files.length === 0) throw err;
        // After a few rounds, the message goes without its clips rather than never.
        limit = attempt >= 3 ? 0 : Math.floor(Math.max(...files.map((f) => f.data.length)) * 0.7);
        this.log.warn({ taskId: task.id, retryLimit: limit }, 'Discord refused the clips as too large; sending them smaller');
      }
    }
  }

  private imageMessage(task: Task, image: DownloadedImage): OutgoingMessage {
    const name = `${task.action.startsWith('upscale:') ? 'image' : 'grid'}${resultMarker(task)}${extensionFor(image.contentType)}`;
    const seed = Boolean(this.accounts.providerFor(task).capabilities.seed);
    return resultMessage(task, { name, data: image.data, contentType: image.contentType }, { regionEditor: this.opts.regionEditor?.(task) ?? false, seed });
  }

  private target(task: Task): DeliveryTarget {
    const noAccessNote = translator(task.locale)('errors.channelNoAccess', { channel: `<#${task.channelId}>` });
    return { token: task.interactionToken, tokenExpiresAt: task.tokenExpiresAt, channelId: task.channelId, userId: task.userId, noAccessNote };
  }

  private finalize(taskId: string): void {
    this.finalized.add(taskId);
    this.lastEdit.delete(taskId);
    if (this.finalized.size > FINALIZED_MEMORY) this.finalized.delete(this.finalized.values().next().value!);
  }

  // ───────────────────────────── best-effort edits ─────────────────────────────

  private tokenAlive(task: Task): boolean {
    return Boolean(task.interactionToken && task.tokenExpiresAt && task.tokenExpiresAt.getTime() > Date.now());
  }

  /** Takes one edit from the budget; false when it is spent (the edit is dropped, a later tick carries newer news). */
  private takeBudget(): boolean {
    if (this.edits.size >= MAX_EDITS_IN_FLIGHT) return false;
    const now = Date.now();
    this.bucket.tokens = Math.min(EDITS_PER_SECOND, this.bucket.tokens + ((now - this.bucket.at) / 1000) * EDITS_PER_SECOND);
    this.bucket.at = now;
    if (this.bucket.tokens < 1) return false;
    this.bucket.tokens -= 1;
    return true;
  }

  private edit(taskId: string, send: () => Promise<void>): void {
    const next = send().catch(async (err: unknown) => {
      this.log.debug({ err, taskId }, 'progress edit not delivered');
      // Discord says the interaction token is dead: stop editing; the result will go to the channel.
      if (isDeadTokenError(err)) await this.lifecycle.tokenDead(taskId).catch(() => undefined);
    });
    this.edits.set(taskId, next);
    void next.finally(() => {
      if (this.edits.get(taskId) === next) this.edits.delete(taskId);
    });
  }

  /**
   * The interval counts from when Discord took the edit: a request may wait in a queue under load, and counting
   * from the send would let two edits land closer than the interval.
   */
  private sent(taskId: string, progress: number): void {
    if (!this.finalized.has(taskId)) this.lastEdit.set(taskId, { at: Date.now(), progress });
  }

  /** Shows progress: at most one edit per interval and only when something changed; skipped while one is in flight. */
  progress(task: Task, progress: number, previewUrl?: string): void {
    if (!this.tokenAlive(task) || this.edits.has(task.id) || this.finalized.has(task.id)) return;
    const last = this.lastEdit.get(task.id);
    if (last && (last.progress === progress || Date.now() - last.at < this.opts.progressIntervalMs)) return;
    if (!this.takeBudget()) return;
    const provider = this.accounts.providerFor(task);
    // ❌ stays on a running job only where its relay can stop it.
    const cancellable = typeof provider.cancel === 'function';
    this.edit(task.id, async () => {
      let message: OutgoingMessage;
      if (progress === 0 && !previewUrl) message = waitingMessage(task, { cancellable });
      else {
        let preview: OutgoingFile | undefined;
        if (previewUrl && provider.capabilities.previews) {
          try {
            const image = await downloadImage(provider, previewUrl);
            preview = { name: `preview.${extensionFor(image.contentType)}`, data: image.data, contentType: image.contentType };
          } catch (err) {
            this.log.debug({ err, taskId: task.id }, 'preview unavailable');
          }
        }
        message = progressMessage(task, progress, preview, { cancellable });
      }
      if (this.finalized.has(task.id)) return;
      await this.messenger.editOriginal(task.interactionToken!, message);
      this.sent(task.id, progress);
    });
  }

  /**
   * Shows queued jobs' places in line, with ❌, on their replies. Checked again just before sending, in one read
   * for the whole pass: a job that started or was cancelled meanwhile (on any instance) keeps its newer message.
   */
  queued(moved: readonly { task: Task; position: number }[]): void {
    const due = moved.filter(({ task }) => this.tokenAlive(task) && !this.edits.has(task.id) && !this.finalized.has(task.id) && this.takeBudget());
    if (due.length === 0) return;
    const statuses = this.repo.statuses(due.map(({ task }) => task.id));
    for (const { task, position } of due) {
      this.edit(task.id, async () => {
        // Still waiting when the edit goes out: a started job's reply is its progress.
        if ((await statuses).get(task.id) !== 'queued' || this.finalized.has(task.id)) return;
        await this.messenger.editOriginal(task.interactionToken!, queuedMessage(task, position));
        // Positions share the progress clock: the next edit of any kind waits its interval.
        this.sent(task.id, -1);
      });
    }
  }
}
