// ❌ on a job: a queued job leaves the queue at once; a started one is stopped at its relay first, where the
// relay can stop jobs at all. Each change is one guarded transition, so a click racing the dispatcher, the
// tracker or another instance either wins cleanly or finds the job already moved on — never half-cancelled.
import { AT_RELAY_STATUSES, type Task, type TaskStatus } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { timeRelay } from '../metrics.ts';
import type { Accounts } from '../upstream/accounts.ts';
import { UpstreamRejected } from '../upstream/provider.ts';
import type { Delivery } from './delivery.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { TaskRepo } from './repo.ts';

export type CancelOutcome =
  /** Stopped; its message now says so. */
  | { outcome: 'cancelled'; task: Task }
  /** It ended (or its result is already on the way) before the click. */
  | { outcome: 'finished' }
  | { outcome: 'alreadyCancelled' }
  /** Claimed and being submitted this very moment: there is no upstream job to stop yet. */
  | { outcome: 'starting' }
  /** Started at a relay that cannot stop jobs. */
  | { outcome: 'unstoppable' }
  /** The relay refused (or could not be asked); `reason` is a locale key or the relay's words. */
  | { outcome: 'refused'; reason?: string };

export interface CancelClick {
  /** Who clicked ❌: named on the message when it was not the job's owner (a moderator). */
  by: string;
  /** The click's interaction token: once acknowledged, it edits the message ❌ was on. */
  token: string;
  /** Acknowledges the click without a visible change (type 6), before anything slower than Discord's 3 s. */
  acknowledge(): Promise<void>;
}

/** The click's token edits the message ❌ was on for 15 minutes; stop a little before Discord does. */
const CLICK_TOKEN_MS = 15 * 60_000 - 30_000;

export class Cancellation {
  constructor(
    private readonly lifecycle: Pick<Lifecycle, 'cancel'>,
    private readonly repo: Pick<TaskRepo, 'get'>,
    private readonly accounts: Pick<Accounts, 'providerFor'>,
    private readonly delivery: Pick<Delivery, 'kick'>,
    private readonly log: Logger,
  ) {}

  async cancel(task: Task, click: CancelClick): Promise<CancelOutcome> {
    if (task.status === 'queued') {
      const row = await this.end(task.id, ['queued'], click);
      if (row) return this.cancelled(row, click);
      // The dispatcher claimed it (or someone cancelled it) since it was read.
      task = (await this.repo.get(task.id)) ?? task;
    }
    const ended = this.ended(task);
    if (ended) return ended;
    const provider = this.accounts.providerFor(task);
    if (!provider.cancel) return { outcome: 'unstoppable' };
    if (!task.upstreamId) return { outcome: 'starting' };

    await click.acknowledge();
    try {
      await timeRelay(task.account ?? '', 'cancel', () => provider.cancel!(task.upstreamId!));
    } catch (err) {
      if (err instanceof UpstreamRejected) {
        this.log.info({ taskId: task.id, reason: err.message }, 'relay refused to cancel the job');
        return { outcome: 'refused', reason: err.message };
      }
      this.log.warn({ err, taskId: task.id }, 'could not ask the relay to cancel the job');
      return { outcome: 'refused' };
    }
    // A result stored meanwhile wins: the user gets the image rather than losing a finished job.
    const row = await this.end(task.id, AT_RELAY_STATUSES, click);
    if (row) return this.cancelled(row, click);
    const now = await this.repo.get(task.id);
    return (now && this.ended(now)) || { outcome: 'finished' };
  }

  /** The outcome for a job that is over, or whose result is stored and about to be delivered. */
  private ended(task: Task): CancelOutcome | undefined {
    if (task.status === 'cancelled') return { outcome: 'alreadyCancelled' };
    if (task.status === 'succeeded' || task.status === 'failed' || task.resultAt) return { outcome: 'finished' };
    return undefined;
  }

  /** Its message goes through the outbox like every final message (retried through a Discord outage). */
  private async cancelled(task: Task, click: CancelClick): Promise<CancelOutcome> {
    this.log.info({ taskId: task.id, by: click.by }, 'task cancelled');
    await click.acknowledge();
    this.delivery.kick();
    return { outcome: 'cancelled', task };
  }

  private end(id: string, from: readonly TaskStatus[], click: CancelClick): Promise<Task | undefined> {
    return this.lifecycle.cancel(id, from, { by: click.by, token: click.token, tokenExpiresAt: new Date(Date.now() + CLICK_TOKEN_MS) });
  }
}
