// Reads of the task table. Writes are the lifecycle's alone (src/tasks/lifecycle.ts).
import { and, asc, eq, inArray, isNotNull, isNull, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { ACTIVE_STATUSES, AT_RELAY_STATUSES, tasks, type Task } from '../db/schema.ts';

export type { InFlight, Placement, QueuedTask } from './lifecycle.ts';

const atRelay = inArray(tasks.status, [...AT_RELAY_STATUSES]);
const noResult = isNull(tasks.resultAt);

/** Reads the loops need (no writes: those are the transitions above). */
export class TaskRepo {
  constructor(private readonly db: Db) {}

  async get(id: string): Promise<Task | undefined> {
    const [row] = await this.db.select().from(tasks).where(eq(tasks.id, id)).limit(1);
    return row;
  }

  /** Only these tasks' statuses (a check before edits; the whole row is 45 columns to read and map). */
  async statuses(ids: readonly string[]): Promise<Map<string, Task['status']>> {
    const rows = await this.db.select({ id: tasks.id, status: tasks.status }).from(tasks).where(inArray(tasks.id, [...ids]));
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  /** Jobs a relay account holds for this instance and has not finished: what its poller follows. */
  trackable(owner: bigint, account: string, primary: boolean): Promise<Task[]> {
    const onAccount = primary ? or(eq(tasks.account, account), isNull(tasks.account)) : eq(tasks.account, account);
    return this.db
      .select()
      .from(tasks)
      .where(and(atRelay, noResult, isNotNull(tasks.upstreamId), eq(tasks.claimedBy, owner), onAccount))
      .orderBy(asc(tasks.createdAt));
  }

  /** The unfinished job an account's upstream job belongs to (account-wide webhooks name only the upstream id). */
  async byUpstreamId(account: string, upstreamId: string, primary: boolean): Promise<Task | undefined> {
    const onAccount = primary ? or(eq(tasks.account, account), isNull(tasks.account)) : eq(tasks.account, account);
    const [row] = await this.db
      .select()
      .from(tasks)
      .where(and(atRelay, onAccount, eq(tasks.upstreamId, upstreamId)))
      .limit(1);
    return row;
  }

  /** Unfinished jobs by status and account, for the metrics (an index scan of the few unfinished rows). */
  countUnfinished(): Promise<Array<{ status: string; account: string | null; n: number }>> {
    return this.db
      .select({ status: tasks.status, account: tasks.account, n: sql<number>`count(*)::int` })
      .from(tasks)
      .where(inArray(tasks.status, ['queued', ...ACTIVE_STATUSES]))
      .groupBy(tasks.status, tasks.account);
  }

  /** Instances holding unfinished work, other than `self` (null: rows from before instances were recorded). */
  async otherOwners(self: bigint): Promise<Array<bigint | null>> {
    const rows = await this.db
      .selectDistinct({ owner: tasks.claimedBy })
      .from(tasks)
      .where(
        or(
          // Rows from before instances were recorded have no owner; pending messages of nobody's are anyone's to send.
          and(inArray(tasks.status, [...ACTIVE_STATUSES]), or(isNull(tasks.claimedBy), ne(tasks.claimedBy, self))),
          and(isNotNull(tasks.deliveryDue), ne(tasks.claimedBy, self)),
        ),
      );
    return rows.map((r) => r.owner);
  }
}
