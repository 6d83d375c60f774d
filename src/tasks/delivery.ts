// Everything a task shows the user after it was accepted: waiting, progress (throttled) and the final
// message — the result uploaded as an image with its buttons, or a clear failure. Messages for one task are
// sent strictly in order, so a late progress edit can never overwrite the result.
import type { Task } from '../db/schema.ts';
import { discordError, isDeadTokenError, type DeliveryTarget, type Messenger } from '../discord/messenger.ts';
import { describedMessage, failedMessage, progressMessage, resultMessage, waitingMessage, type OutgoingFile } from '../discord/render.ts';
import { translator } from '../i18n.ts';
import { retryDatabase } from '../db/retry.ts';
import type { Logger } from '../log.ts';
import { jobsFinished } from '../metrics.ts';
import type { Accounts } from '../upstream/accounts.ts';
import type { DownloadedImage } from '../upstream/provider.ts';
import { downloadImage } from './download.ts';
import { DISCORD_UPLOAD_LIMIT, extensionFor, fitUploadLimit } from './images.ts';
import type { TaskRepo } from './repo.ts';
import { cancelledMessage, queuedMessage } from '../discord/render.ts';

/** How many times a finished job's delivery is tried (across ticks) before it is declared failed. */
const MAX_DELIVERY_ATTEMPTS = 5;
/**
 * How long one attempt at delivering a result may take before another instance may try (a download and an
 * upload of at most 10 MiB, with Discord's rate limits): a crashed deliverer is replaced after this.
 */
const DELIVERY_LEASE_MS = 120_000;

export class Delivery {
  /** Per-task chain of pending sends: keeps order and tells whether a send is in flight. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly lastProgress = new Map<string, { at: number; progress: number }>();
  /** Tasks whose final message is queued or being sent: no more progress for them, no second delivery. */
  private readonly finishing = new Set<string>();

  constructor(
    private readonly repo: TaskRepo,
    private readonly messenger: Messenger,
    private readonly accounts: Accounts,
    private readonly log: Logger,
    private readonly progressIntervalMs: number,
  ) {}

  busy(taskId: string): boolean {
    return this.chains.has(taskId);
  }

  /** Resolves when every queued send has finished (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }

  private enqueue(taskId: string, send: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(taskId) ?? Promise.resolve();
    const next = prev.then(send).catch(async (err) => {
      this.log.warn({ err, taskId }, 'discord send failed');
      // Discord says the interaction token is dead: stop editing; the result will go to the channel.
      if (isDeadTokenError(err)) await this.repo.update(taskId, { tokenExpiresAt: new Date() }).catch(() => undefined);
    });
    this.chains.set(taskId, next);
    void next.finally(() => {
      if (this.chains.get(taskId) === next) this.chains.delete(taskId);
    });
    return next;
  }

  private tokenAlive(task: Task): boolean {
    return Boolean(task.interactionToken && task.tokenExpiresAt && task.tokenExpiresAt.getTime() > Date.now());
  }

  /**
   * Shows progress, at most one edit per interval and only when something changed. Skipped while an earlier
   * edit is still in flight (Discord is slow or rate-limiting us): the next tick carries the newer value.
   */
  progress(task: Task, progress: number, previewUrl?: string): void {
    if (!this.tokenAlive(task) || this.busy(task.id) || this.finishing.has(task.id)) return;
    const last = this.lastProgress.get(task.id);
    const now = Date.now();
    if (last && (last.progress === progress || now - last.at < this.progressIntervalMs)) return;
    this.lastProgress.set(task.id, { at: now, progress });
    const provider = this.accounts.providerFor(task);
    // ❌ stays on a running job only where its relay can stop it.
    const cancellable = typeof provider.cancel === 'function';
    void this.enqueue(task.id, async () => {
      if (progress === 0 && !previewUrl) {
        if (!(await this.stillRunning(task.id))) return;
        await this.messenger.editOriginal(task.interactionToken!, waitingMessage(task, { cancellable }));
        this.sent(task.id, progress);
        return;
      }
      let preview: OutgoingFile | undefined;
      if (previewUrl && provider.capabilities.previews) {
        try {
          const image = await downloadImage(provider, previewUrl);
          preview = { name: `preview.${extensionFor(image.contentType)}`, data: image.data, contentType: image.contentType };
        } catch (err) {
          this.log.debug({ err, taskId: task.id }, 'preview unavailable');
        }
      }
      // A cancel (or a result from another instance) since the tracker read the row must not be overwritten.
      if (!(await this.stillRunning(task.id))) return;
      await this.messenger.editOriginal(task.interactionToken!, progressMessage(task, progress, preview, { cancellable }));
      this.sent(task.id, progress);
    });
  }

  /**
   * The interval counts from when Discord took the edit: discord.js may hold a request in its queue for
   * seconds under load, and counting from the send would let two edits land closer than the interval.
   */
  private sent(taskId: string, progress: number): void {
    this.lastProgress.set(taskId, { at: Date.now(), progress });
  }

  private async stillRunning(taskId: string): Promise<boolean> {
    const current = await this.repo.get(taskId);
    return current?.status === 'submitted' || current?.status === 'running';
  }

  /**
   * Uploads the finished image with its buttons and marks the task succeeded; retried on the next tick on
   * failure. A lease on the row makes sure only one instance delivers it, and only while it is still active.
   */
  result(task: Task): Promise<void> {
    if (this.finishing.has(task.id)) return Promise.resolve();
    this.finishing.add(task.id);
    return this.enqueue(task.id, async () => {
      const leased = await this.repo.leaseDelivery(task.id, DELIVERY_LEASE_MS).catch((err: unknown) => {
        this.finishing.delete(task.id);
        throw err;
      });
      if (!leased) return void this.finishing.delete(task.id);
      try {
        const sent = await this.deliverResult(leased);
        // Discord shows the result now: record it even across a database restart, or it would be sent again.
        const delivered = await retryDatabase(() => this.repo.markDelivered(leased.id, sent.messageId), { log: this.log, context: { taskId: leased.id } });
        if (delivered) jobsFinished.inc({ status: 'succeeded', account: leased.account ?? '' });
        this.forget(leased.id);
        this.log.info({ taskId: leased.id, via: sent.via }, 'result delivered');
      } catch (err) {
        const attempts = leased.deliveryAttempts + 1;
        this.log.warn({ err, taskId: leased.id, attempts }, 'result delivery failed');
        await this.repo.releaseDelivery(leased.id, attempts);
        if (attempts >= MAX_DELIVERY_ATTEMPTS) await this.sendFailure(leased, 'errors.deliveryFailed');
      } finally {
        this.finishing.delete(task.id);
      }
    });
  }

  /**
   * Sends the final message. Discord's upload limit can be lower than ours (a server's own setting): on 413
   * the image is re-encoded at half the size and sent again, twice at most.
   */
  private async deliverResult(task: Task) {
    if (task.action === 'describe') return this.messenger.deliver(this.target(task), this.describedMessage(task));
    const url = task.imageUrls?.[0];
    if (!url) throw new Error('finished job has no image');
    const original = await downloadImage(this.accounts.providerFor(task), url);
    let limit = DISCORD_UPLOAD_LIMIT;
    for (let attempt = 0; ; attempt++) {
      const image = await fitUploadLimit(original, limit);
      try {
        return await this.messenger.deliver(this.target(task), this.imageMessage(task, image));
      } catch (err) {
        if (discordError(err)?.status !== 413 || attempt >= 2) throw err;
        limit = Math.floor(image.data.length / 2);
        this.log.warn({ taskId: task.id, bytes: image.data.length, retryLimit: limit }, 'Discord refused the upload as too large; sending it smaller');
      }
    }
  }

  /** A /describe result is text: the suggested prompts, with a button for each. */
  private describedMessage(task: Task) {
    if (!task.descriptions?.length) throw new Error('finished describe job has no prompts');
    return describedMessage(task);
  }

  private imageMessage(task: Task, image: DownloadedImage) {
    const name = `${task.action.startsWith('upscale:') ? 'image' : 'grid'}_${task.id.slice(0, 8)}.${extensionFor(image.contentType)}`;
    return resultMessage(task, { name, data: image.data, contentType: image.contentType });
  }

  /**
   * Ends a task as failed and tells the user why, in their language. `recorded`: the caller already stored the
   * failure (claiming it atomically); otherwise it is stored here, and only the call that ends the task speaks.
   */
  failure(task: Task, reason: string, opts: { recorded?: boolean } = {}): Promise<void> {
    if (this.finishing.has(task.id)) return Promise.resolve();
    this.finishing.add(task.id);
    return this.enqueue(task.id, () => this.sendFailure(task, reason, opts.recorded).finally(() => this.finishing.delete(task.id)));
  }

  private async sendFailure(task: Task, reason: string, recorded = false): Promise<void> {
    if (!recorded && !(await this.repo.markFailed(task.id, reason))) return;
    jobsFinished.inc({ status: 'failed', account: task.account ?? '' });
    this.forget(task.id);
    const t = translator(task.locale);
    // Our own reasons are locale keys (`errors.x`, or `ns:errors.x` from another namespace); the rest is upstream text.
    const text = /^(\w+:)?errors\./.test(reason) ? t(reason) : t('errors.upstreamFailed', { reason });
    try {
      await this.messenger.deliver(this.target(task), failedMessage(task, text));
    } catch (err) {
      this.log.error({ err, taskId: task.id }, 'could not tell the user their job failed');
    }
    this.log.info({ taskId: task.id, reason }, 'task failed');
  }

  private target(task: Task): DeliveryTarget {
    const noAccessNote = translator(task.locale)('errors.channelNoAccess', { channel: `<#${task.channelId}>` });
    return { token: task.interactionToken, tokenExpiresAt: task.tokenExpiresAt, channelId: task.channelId, userId: task.userId, noAccessNote };
  }

  private forget(taskId: string) {
    this.lastProgress.delete(taskId);
  }

  /**
   * Shows a queued job's place in line, with ❌, on its reply. Checked again just before sending: a job that
   * started or was cancelled meanwhile keeps its newer message.
   */
  queued(task: Task, position: number): Promise<void> {
    const token = task.interactionToken;
    if (!token || !task.tokenExpiresAt || task.tokenExpiresAt.getTime() <= Date.now()) return Promise.resolve();
    return this.enqueue(task.id, async () => {
      const current = await this.repo.get(task.id);
      if (current?.status !== 'queued') return;
      await this.messenger.editOriginal(token, queuedMessage(current, position));
      // Positions share the progress clock: the next edit of any kind waits its interval.
      this.sent(task.id, -1);
    });
  }

  /**
   * A cancelled job's last word, after anything already queued for it: the message ❌ was on says so. Counted
   * as finishing meanwhile, so no progress edit is queued behind it.
   */
  cancelled(task: Task, click: { token: string; by: string }): Promise<void> {
    this.finishing.add(task.id);
    return this.enqueue(task.id, async () => {
      try {
        await this.messenger.editOriginal(click.token, cancelledMessage(task, click.by));
      } finally {
        this.finishing.delete(task.id);
        this.lastProgress.delete(task.id);
      }
    });
  }
}
