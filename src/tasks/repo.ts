// Every query on the task table lives here, so the state machine reads as intent, not SQL.
import { and, asc, eq, inArray, isNotNull, isNull, lt, ne, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { ACTIVE_STATUSES, FINAL_STATUSES, tasks, type NewTask, type SpeedMode, type Task } from '../db/schema.ts';

export type TaskPatch = Partial<Omit<NewTask, 'id' | 'createdAt'>>;

export class TaskRepo {
  constructor(private readonly db: Db) {}

  async insert(task: NewTask): Promise<Task> {
    const [row] = await this.db.insert(tasks).values(task).returning();
    return row!;
  }

  async get(id: string): Promise<Task | undefined> {
    const [row] = await this.db.select().from(tasks).where(eq(tasks.id, id)).limit(1);
    return row;
  }

  async update(id: string, patch: TaskPatch): Promise<Task | undefined> {
    const [row] = await this.db.update(tasks).set(patch).where(eq(tasks.id, id)).returning();
    return row;
  }

  /**
   * Places queued tasks on relay accounts, in one transaction: `decide` sees the oldest queued tasks (locked with
   * SKIP LOCKED) and what is in flight, and picks which start where; those are marked submitted and returned.
   * A transaction-scoped advisory lock makes placements of every instance take turns, so the in-flight counts
   * `decide` sees stay true until the claim commits: no account or user ever gets more than its limit.
   */
  async claim(owner: bigint, decide: (queued: QueuedTask[], inFlight: InFlight[]) => Placement[], scan = CLAIM_SCAN): Promise<Task[]> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${String(CLAIM_LOCK_KEY)}::bigint)`);
      const queued = await tx
        .select({
          id: tasks.id,
          userId: tasks.userId,
          action: tasks.action,
          mode: tasks.mode,
          hasImages: sql<boolean>`coalesce(jsonb_array_length(${tasks.input}->'images'), 0) > 0`,
          // An action acts on its parent's upstream job: it must run on the parent's account.
          // (Qualified by hand: inside a select list drizzle leaves column names bare, which the subquery would capture.)
          account: sql<string | null>`coalesce("tasks"."account", (select p.account from tasks p where p.id = "tasks"."parent_id"))`,
        })
        .from(tasks)
        .where(eq(tasks.status, 'queued'))
        .orderBy(asc(tasks.createdAt), asc(tasks.id))
        .limit(scan)
        .for('update', { skipLocked: true });
      if (queued.length === 0) return [];
      const inFlight = await tx
        .select({ account: tasks.account, userId: tasks.userId, n: sql<number>`count(*)::int` })
        .from(tasks)
        .where(inArray(tasks.status, [...ACTIVE_STATUSES]))
        .groupBy(tasks.account, tasks.userId);
      const placements = decide(queued, inFlight);
      const claimed: Task[] = [];
      const now = new Date();
      const byAccount = new Map<string, Placement[]>();
      for (const p of placements) byAccount.set(p.account, [...(byAccount.get(p.account) ?? []), p]);
      for (const [account, ids] of byAccount) {
        claimed.push(
          ...(await tx
            .update(tasks)
            .set({ status: 'submitted', account, claimedBy: owner, startedAt: now, lastProgressAt: now, queuePosition: null })
            .where(inArray(tasks.id, ids.map((p) => p.id)))
            .returning()),
        );
      }
      // Arrival order, whatever account each went to.
      const order = new Map(placements.map((p, i) => [p.id, i]));
      return claimed.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    });
  }

  /** Like update, but only while the task is still active (submitted or running): undefined once it ended. */
  async updateActive(id: string, patch: TaskPatch): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set(patch)
      .where(and(eq(tasks.id, id), inArray(tasks.status, [...ACTIVE_STATUSES])))
      .returning();
    return row;
  }

  /**
   * The relay took the job: its id, and its data merged into what is there (a pushed update may have been
   * stored first — the relay can call back before this write lands).
   */
  async recordSubmitted(id: string, upstreamId: string, data: Record<string, unknown> | undefined): Promise<void> {
    await this.db
      .update(tasks)
      .set({
        upstreamId,
        upstreamData: sql`coalesce(${tasks.upstreamData}, '{}'::jsonb) || ${JSON.stringify(data ?? {})}::jsonb`,
        lastProgressAt: new Date(),
      })
      .where(eq(tasks.id, id));
  }

  /** Puts a claimed task back in the queue (its account failed before the upstream took it), unpinned if it may move. */
  async requeue(id: string, keepAccount: boolean): Promise<void> {
    await this.db
      .update(tasks)
      .set({ ...BACK_TO_QUEUE, ...(keepAccount ? {} : { account: null }) })
      .where(and(eq(tasks.id, id), eq(tasks.status, 'submitted'), isNull(tasks.upstreamId)));
  }

  /**
   * Fails a task with this reason unless it already ended (or another instance got there first); returns it
   * as stored when this call was the one that ended it — the caller then tells the user.
   */
  async markFailed(id: string, reason: string): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set({ status: 'failed', failReason: reason, finishedAt: new Date(), deliveringUntil: null })
      .where(and(eq(tasks.id, id), notInArray(tasks.status, [...FINAL_STATUSES])))
      .returning();
    return row;
  }

  /**
   * Takes the right to deliver a finished task's result for `leaseMs`: while an instance holds it no other one
   * delivers, and a crashed holder's lease simply runs out. Undefined when the task ended or another holds it.
   */
  async leaseDelivery(id: string, leaseMs: number): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set({ deliveringUntil: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
      .where(and(eq(tasks.id, id), inArray(tasks.status, [...ACTIVE_STATUSES]), or(isNull(tasks.deliveringUntil), lt(tasks.deliveringUntil, sql`now()`))))
      .returning();
    return row;
  }

  /** The delivery went out: the task succeeded (unless it was cancelled meanwhile). */
  async markDelivered(id: string, messageId: string): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set({ status: 'succeeded', messageId, finishedAt: new Date(), progress: 100, deliveringUntil: null })
      .where(and(eq(tasks.id, id), inArray(tasks.status, [...ACTIVE_STATUSES])))
      .returning();
    return row;
  }

  /** The delivery failed this time: count it and let the next tick (of any instance) try again. */
  async releaseDelivery(id: string, attempts: number): Promise<void> {
    await this.db.update(tasks).set({ deliveringUntil: null, deliveryAttempts: attempts }).where(eq(tasks.id, id));
  }

  /** Tasks handed to the upstream and not finished: what the tracker follows (only its own instance's, given an owner). */
  async active(owner?: bigint): Promise<Task[]> {
    return this.db
      .select()
      .from(tasks)
      .where(and(inArray(tasks.status, [...ACTIVE_STATUSES]), isNotNull(tasks.upstreamId), owner === undefined ? undefined : eq(tasks.claimedBy, owner)))
      .orderBy(asc(tasks.createdAt));
  }

  /** The active task an upstream job belongs to (account-wide webhooks name only the upstream's id). */
  async findActiveByUpstreamId(upstreamId: string): Promise<Task | undefined> {
    const [row] = await this.db
      .select()
      .from(tasks)
      .where(and(inArray(tasks.status, [...ACTIVE_STATUSES]), eq(tasks.upstreamId, upstreamId)))
      .limit(1);
    return row;
  }

  /** Unfinished jobs by status and account, for the metrics (an index scan of the few unfinished rows). */
  async countUnfinished(): Promise<Array<{ status: string; account: string | null; n: number }>> {
    return this.db
      .select({ status: tasks.status, account: tasks.account, n: sql<number>`count(*)::int` })
      .from(tasks)
      .where(inArray(tasks.status, ['queued', ...ACTIVE_STATUSES]))
      .groupBy(tasks.status, tasks.account);
  }

  /** Instances holding active tasks, other than `self` (null: tasks from before instances were recorded). */
  async otherOwners(self: bigint): Promise<Array<bigint | null>> {
    const rows = await this.db
      .selectDistinct({ owner: tasks.claimedBy })
      .from(tasks)
      .where(and(inArray(tasks.status, [...ACTIVE_STATUSES]), or(isNull(tasks.claimedBy), ne(tasks.claimedBy, self))));
    return rows.map((r) => r.owner);
  }

  /**
   * This instance's own claims that never reached the relay (their submission failed to be recorded, e.g. the
   * database was down for minutes): back to the queue. Younger claims may still be under way.
   */
  async requeueStale(self: bigint, claimedBefore: Date): Promise<number> {
    const rows = await this.db
      .update(tasks)
      .set(BACK_TO_QUEUE)
      .where(and(eq(tasks.claimedBy, self), eq(tasks.status, 'submitted'), isNull(tasks.upstreamId), lt(tasks.startedAt, claimedBefore)))
      .returning({ id: tasks.id });
    return rows.length;
  }

  /**
   * Takes over a dead instance's tasks: the ones the upstream has get tracked by `self`; the ones it claimed but
   * never submitted go back to the queue (submitted once, by whoever claims them next). The WHERE on the old
   * owner makes a race between two adopting instances harmless: one of them wins each row.
   */
  async adopt(dead: bigint | null, self: bigint): Promise<{ adopted: number; requeued: number }> {
    const owned = dead === null ? isNull(tasks.claimedBy) : eq(tasks.claimedBy, dead);
    const requeued = await this.db
      .update(tasks)
      .set(BACK_TO_QUEUE)
      .where(and(owned, eq(tasks.status, 'submitted'), isNull(tasks.upstreamId)))
      .returning({ id: tasks.id });
    const adopted = await this.db
      .update(tasks)
      .set({ claimedBy: self })
      .where(and(owned, inArray(tasks.status, [...ACTIVE_STATUSES]), isNotNull(tasks.upstreamId)))
      .returning({ id: tasks.id });
    return { adopted: adopted.length, requeued: requeued.length };
  }
}

/** What a claimed task that never reached its relay goes back to: queued, nobody's, not started. */
const BACK_TO_QUEUE = { status: 'queued', claimedBy: null, startedAt: null } as const satisfies TaskPatch;

/** Advisory lock taken by every placement transaction ("mj-claim"). */
const CLAIM_LOCK_KEY = 0x6d6a_636c_6169n;
/** How many of the oldest queued tasks one placement looks at (others wait for the next pass). */
const CLAIM_SCAN = 200;

/** A queued task as placement sees it. */
export interface QueuedTask {
  id: string;
  userId: string;
  action: string;
  mode: SpeedMode | null;
  hasImages: boolean;
  /** The account it must run on (an action: its parent's), or null when any may take it. */
  account: string | null;
}

export interface InFlight {
  account: string | null;
  userId: string;
  n: number;
}

export interface Placement {
  id: string;
  account: string;
}
