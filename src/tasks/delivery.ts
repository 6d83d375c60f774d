// Everything a task shows the user after it was accepted: waiting, progress (throttled) and the final
// message — the result uploaded as an image with its buttons, or a clear failure. Messages for one task are
// sent strictly in order, so a late progress edit can never overwrite the result.
import type { Task } from '../db/schema.ts';
import { isDeadTokenError, type Messenger } from '../discord/messenger.ts';
import { describedMessage, failedMessage, progressMessage, resultMessage, waitingMessage, type OutgoingFile } from '../discord/render.ts';
import { translator } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { Provider } from '../upstream/provider.ts';
import { downloadImage } from './download.ts';
import { extensionFor, fitUploadLimit } from './images.ts';
import type { TaskRepo } from './repo.ts';

/** How many times a finished job's delivery is tried (across ticks) before it is declared failed. */
const MAX_DELIVERY_ATTEMPTS = 5;

export class Delivery {
  /** Per-task chain of pending sends: keeps order and tells whether a send is in flight. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly lastProgress = new Map<string, { at: number; progress: number }>();
  /** Tasks whose final message is queued or being sent: no more progress for them, no second delivery. */
  private readonly finishing = new Set<string>();

  constructor(
    private readonly repo: TaskRepo,
    private readonly messenger: Messenger,
    private readonly provider: Provider,
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
    void this.enqueue(task.id, async () => {
      if (progress === 0 && !previewUrl) {
        await this.messenger.editOriginal(task.interactionToken!, waitingMessage(task));
        return;
      }
      let preview: OutgoingFile | undefined;
      if (previewUrl && this.provider.capabilities.previews) {
        try {
          const image = await downloadImage(this.provider, previewUrl);
          preview = { name: `preview.${extensionFor(image.contentType)}`, data: image.data, contentType: image.contentType };
        } catch (err) {
          this.log.debug({ err, taskId: task.id }, 'preview unavailable');
        }
      }
      // The interval counts from when an edit is sent, not queued: a slow preview download must not squeeze two edits together.
      this.lastProgress.set(task.id, { at: Date.now(), progress });
      await this.messenger.editOriginal(task.interactionToken!, progressMessage(task, progress, preview));
    });
  }

  /** Uploads the finished image with its buttons and marks the task succeeded; retried on the next tick on failure. */
  result(task: Task): Promise<void> {
    if (this.finishing.has(task.id)) return Promise.resolve();
    this.finishing.add(task.id);
    return this.enqueue(task.id, async () => {
      try {
        const sent = await this.messenger.deliver(this.target(task), await this.finalMessage(task));
        await this.repo.update(task.id, { status: 'succeeded', messageId: sent.messageId, finishedAt: new Date(), progress: 100 });
        this.forget(task.id);
        this.log.info({ taskId: task.id, via: sent.via }, 'result delivered');
      } catch (err) {
        const attempts = task.deliveryAttempts + 1;
        this.log.warn({ err, taskId: task.id, attempts }, 'result delivery failed');
        await this.repo.update(task.id, { deliveryAttempts: attempts });
        if (attempts >= MAX_DELIVERY_ATTEMPTS) await this.sendFailure(task, 'errors.deliveryFailed');
      } finally {
        this.finishing.delete(task.id);
      }
    });
  }

  private async finalMessage(task: Task) {
    // A /describe result is text: the suggested prompts, with a button for each.
    if (task.action === 'describe') {
      if (!task.descriptions?.length) throw new Error('finished describe job has no prompts');
      return describedMessage(task);
    }
    const url = task.imageUrls?.[0];
    if (!url) throw new Error('finished job has no image');
    const image = await fitUploadLimit(await downloadImage(this.provider, url));
    const name = `${task.action.startsWith('upscale:') ? 'image' : 'grid'}_${task.id.slice(0, 8)}.${extensionFor(image.contentType)}`;
    return resultMessage(task, { name, data: image.data, contentType: image.contentType });
  }

  /** Ends a task as failed and tells the user why, in their language. */
  failure(task: Task, reason: string): Promise<void> {
    if (this.finishing.has(task.id)) return Promise.resolve();
    this.finishing.add(task.id);
    return this.enqueue(task.id, () => this.sendFailure(task, reason).finally(() => this.finishing.delete(task.id)));
  }

  private async sendFailure(task: Task, reason: string): Promise<void> {
    await this.repo.update(task.id, { status: 'failed', failReason: reason, finishedAt: new Date() });
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

  private target(task: Task) {
    return { token: task.interactionToken, tokenExpiresAt: task.tokenExpiresAt, channelId: task.channelId, userId: task.userId };
  }

  private forget(taskId: string) {
    this.lastProgress.delete(taskId);
  }
}
