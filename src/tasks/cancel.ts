// ❌ on a job: a queued job leaves the queue at once; a started one is stopped at its relay first, where the
// relay can stop jobs at all. Each change is one conditional UPDATE, so a click racing the dispatcher, the
// tracker or another instance either wins cleanly or finds the job already moved on — never half-cancelled.
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { ACTIVE_STATUSES, tasks, type Task, type TaskStatus } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { jobsFinished } from '../metrics.ts';
import type { Accounts } from '../upstream/accounts.ts';
import { UpstreamRejected } from '../upstream/provider.ts';
import type { Delivery } from './delivery.ts';

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

export class Cancellation {
  constructor(
    private readonly db: Db,
    private readonly accounts: Pick<Accounts, 'providerFor'>,
    private readonly delivery: Pick<Delivery, 'cancelled'>,
    private readonly log: Logger,
  ) {}

  async cancel(task: Task, click: CancelClick): Promise<CancelOutcome> {
    if (task.status === 'queued') {
      const row = await this.end(task.id, ['queued']);
      if (row) return this.cancelled(row, click);
      // The dispatcher claimed it (or someone cancelled it) since it was read.
      task = (await this.get(task.id)) ?? task;
    }
    const ended = this.ended(task);
    if (ended) return ended;
    const provider = this.accounts.providerFor(task);
    if (!provider.cancel) return { outcome: 'unstoppable' };
    if (!task.upstreamId) return { outcome: 'starting' };

    await click.acknowledge();
    try {
      await provider.cancel(task.upstreamId);
    } catch (err) {
      if (err instanceof UpstreamRejected) {
        this.log.info({ taskId: task.id, reason: err.message }, 'relay refused to cancel the job');
        return { outcome: 'refused', reason: err.message };
      }
      this.log.warn({ err, taskId: task.id }, 'could not ask the relay to cancel the job');
      return { outcome: 'refused' };
    }
    // A result stored meanwhile wins: the user gets the image rather than losing a finished job.
    const row = await this.end(task.id, ACTIVE_STATUSES, { unlessResult: true });
    if (row) return this.cancelled(row, click);
    const now = await this.get(task.id);
    return (now && this.ended(now)) || { outcome: 'finished' };
  }

  /** The outcome for a job that is over, or whose result is stored and about to be delivered. */
  private ended(task: Task): CancelOutcome | undefined {
    if (task.status === 'cancelled') return { outcome: 'alreadyCancelled' };
    if (task.status === 'succeeded' || task.status === 'failed' || task.imageUrls || task.descriptions) return { outcome: 'finished' };
    return undefined;
  }

  private async cancelled(task: Task, click: CancelClick): Promise<CancelOutcome> {
    this.log.info({ taskId: task.id, by: click.by }, 'task cancelled');
    jobsFinished.inc({ status: 'cancelled', account: task.account ?? '' });
    await click.acknowledge();
    await this.delivery.cancelled(task, { token: click.token, by: click.by });
    return { outcome: 'cancelled', task };
  }

  /** One atomic step to `cancelled`, only from the given statuses; the row when this call made it. */
  private async end(id: string, from: readonly TaskStatus[], opts: { unlessResult?: boolean } = {}): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set({ status: 'cancelled', finishedAt: sql`now()`, queuePosition: null })
      .where(and(eq(tasks.id, id), inArray(tasks.status, [...from]), opts.unlessResult ? isNull(tasks.imageUrls) : undefined))
      .returning();
    return row;
  }

  private async get(id: string): Promise<Task | undefined> {
    const [row] = await this.db.select().from(tasks).where(eq(tasks.id, id)).limit(1);
    return row;
  }
}
