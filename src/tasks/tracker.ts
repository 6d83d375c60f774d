// Tracking: follows the jobs this instance's relays hold until they finish. Each relay account is polled on a
// loop of its own, so a slow or hung relay delays only its own jobs; pushed updates arrive through
// `applyPushed` / `applyAccountPush`. Any answer in which the relay still shows a job is a sign of life; a job
// the relay leaves out of several answers in a row is lost and fails at once. A finished job's result is stored
// (the outbox delivers it from there, whatever becomes of the relay).
import type { Task } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { timeRelay } from '../metrics.ts';
import type { Account, Accounts } from '../upstream/accounts.ts';
import { BLOCKING_CODES, failCodeOf, isLocaleKey } from '../upstream/fail-codes.ts';
import type { UpstreamJob } from '../upstream/provider.ts';
import type { Delivery } from './delivery.ts';
import { LOST_REASON, type Lifecycle, type ProgressUpdate } from './lifecycle.ts';
import { Loop } from './loop.ts';
import type { TaskRepo } from './repo.ts';

/** Polls in a row whose answer leaves a job out before it counts as lost by the relay. */
export const MISSED_POLLS_LIMIT = 3;

export interface TrackerOptions {
  /** This instance: it follows the jobs it submitted (or adopted from a dead instance), no others. */
  owner: bigint;
  pollIntervalMs: number;
  /** How stale the stored "last seen" may get before a poll writes it again (a fraction of the stall timeout). */
  seenRefreshMs: number;
  /** A final message became due. */
  onFinal: () => void;
}

export class Tracker {
  private readonly loops = new Map<string, Loop>();

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly repo: TaskRepo,
    private readonly accounts: Accounts,
    private readonly delivery: Pick<Delivery, 'progress'>,
    private readonly log: Logger,
    private readonly opts: TrackerOptions,
  ) {
    for (const account of accounts.list) {
      this.loops.set(account.id, new Loop(`tracking ${account.id}`, () => this.poll(account), log, opts.pollIntervalMs));
    }
  }

  start(): void {
    for (const loop of this.loops.values()) loop.start();
  }

  /** Poll this account (every account when unnamed) soon: a job was just submitted. */
  kick(account?: string): void {
    if (account) this.loops.get(account)?.kick();
    else for (const loop of this.loops.values()) loop.kick();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.loops.values()].map((l) => l.stop()));
  }

  private async poll(account: Account): Promise<void> {
    const tasks = await this.repo.trackable(this.opts.owner, account.id, account === this.accounts.primary);
    if (tasks.length === 0) return;
    const byUpstreamId = new Map(tasks.map((t) => [t.upstreamId!, t]));
    let jobs: UpstreamJob[];
    try {
      jobs = await timeRelay(account.id, 'fetch', () => account.provider.fetch([...byUpstreamId.keys()]));
    } catch (err) {
      // No answer says nothing about the jobs: neither a sign of life nor a loss.
      return void this.log.warn({ err, account: account.id }, 'polling the relay failed; trying again next tick');
    }
    const reported = new Set<string>();
    const quiet: string[] = [];
    const moving: { task: Task; job: UpstreamJob; update: ProgressUpdate }[] = [];
    await Promise.all(
      jobs.map(async (job) => {
        const task = byUpstreamId.get(job.upstreamId);
        if (!task || reported.has(job.upstreamId)) return;
        reported.add(job.upstreamId);
        if (job.status === 'succeeded' || job.status === 'failed' || isBlocked(job)) await this.apply(task, job);
        else moving.push({ task, job, update: progressUpdate(task, job.status, job) });
      }),
    );
    // The jobs still running: one statement for the whole answer, then their edits (delivery throttles them).
    const moved = new Map((await this.lifecycle.progressMany(moving.map((m) => m.update))).map((t) => [t.id, t]));
    for (const { task, job, update } of moving) {
      const row = moved.get(task.id);
      if (!row) quiet.push(task.id);
      this.delivery.progress(row ?? task, Math.max(update.progress, task.progress), job.previewUrl);
    }
    await this.lifecycle.seen(quiet, this.opts.seenRefreshMs);
    const missing = tasks.filter((t) => !reported.has(t.upstreamId!)).map((t) => t.id);
    for (const id of await this.lifecycle.missed(missing, MISSED_POLLS_LIMIT)) {
      const failed = await this.lifecycle.fail(id, LOST_REASON);
      if (failed) {
        this.log.warn({ taskId: id, account: account.id, polls: MISSED_POLLS_LIMIT }, 'the relay no longer knows the job');
        this.opts.onFinal();
      }
    }
  }

  /**
   * A pushed update for one task (the webhook receiver checked its secret). Duplicates and stale updates are
   * harmless: every transition is guarded, and progress never goes backwards.
   */
  async applyPushed(taskId: string, job: UpstreamJob): Promise<'applied' | 'ignored'> {
    let task = await this.repo.get(taskId);
    if (!task || (task.upstreamId && task.upstreamId !== job.upstreamId)) return 'ignored';
    // The relay called back before the dispatcher recorded the job: the URL's secret already proved whose job it
    // is, so take the id from the update rather than drop it (relays that do not retry would never resend).
    if (task.status === 'claimed') task = (await this.lifecycle.pushedEarly(task.id, job.upstreamId)) ?? task;
    // Ended, or its result is stored and waits for delivery: a duplicate or late push changes nothing.
    if ((task.status !== 'submitted' && task.status !== 'running') || task.resultAt) return 'ignored';
    // Another instance follows this job and shows its progress; a final outcome is safe to record from here.
    if (task.claimedBy !== this.opts.owner && job.status !== 'succeeded' && job.status !== 'failed' && !isBlocked(job)) return 'ignored';
    await this.apply(task, job);
    return 'applied';
  }

  /** A push to an account's own webhook: only that account's adapter reads it, and only that account's jobs match. */
  async applyAccountPush(account: Account, body: unknown): Promise<{ outcome: 'applied' | 'ignored' | 'unreadable'; job?: UpstreamJob; taskId?: string }> {
    const job = account.provider.parseWebhook?.(body);
    if (!job) return { outcome: 'unreadable' };
    const task = await this.repo.byUpstreamId(account.id, job.upstreamId, account === this.accounts.primary);
    if (!task) return { outcome: 'ignored', job };
    return { outcome: await this.applyPushed(task.id, job), job, taskId: task.id };
  }

  /** Records what the relay says of a job; returns false when nothing changed (a bare sign of life). */
  private async apply(task: Task, job: UpstreamJob): Promise<boolean> {
    const upstreamId = task.upstreamId ?? job.upstreamId;
    if (job.status === 'failed' || isBlocked(job)) {
      const raw = job.failReason?.trim();
      // Our own locale keys stand alone; the relay's words get a code (the adapter's, or read from the words).
      const code = job.failCode ?? (raw && !isLocaleKey(raw) ? failCodeOf(raw) : undefined);
      // A code alone (no words from the relay) is stored with an empty reason: the code's sentence says it all.
      if (await this.lifecycle.fail(task.id, raw || (code ? '' : 'errors.upstreamUnavailable'), { upstreamId }, code)) this.opts.onFinal();
      return true;
    }
    if (job.status === 'succeeded') {
      const stored = await this.lifecycle.resultStored(task.id, upstreamId, {
        imageUrls: job.imageUrls ?? [],
        actions: job.actions ?? [],
        ...(job.descriptions && { descriptions: job.descriptions }),
        upstreamData: job.upstreamData,
      });
      if (stored) {
        this.log.debug({ taskId: task.id, upstreamId: upstreamId.slice(0, 64), images: job.imageUrls?.length ?? 0 }, 'result ready at the relay');
        this.opts.onFinal();
      }
      return true;
    }
    const { progress } = progressUpdate(task, job.status, job);
    const moved = await this.lifecycle.progress(task.id, upstreamId, job.status, progress);
    // Shown even when unchanged: the first "waiting" edit, and the interval since the last edit, are delivery's call.
    this.delivery.progress(moved ?? task, Math.max(progress, task.progress), job.previewUrl);
    return Boolean(moved);
  }
}

/** A job the relay still shows as waiting or running, but held for a reason waiting cannot cure (moderation, a banned prompt). */
function isBlocked(job: UpstreamJob): boolean {
  return job.status !== 'succeeded' && job.failCode !== undefined && BLOCKING_CODES.has(job.failCode);
}

/** What a relay's answer for a job still under way changes: progress stays below 100 until the result is stored. */
function progressUpdate(task: Task, status: 'submitted' | 'running', job: UpstreamJob): ProgressUpdate {
  const progress = Math.max(0, Math.min(99, Math.round(job.progress ?? 0)));
  return { id: task.id, upstreamId: task.upstreamId ?? job.upstreamId, status, progress };
}
