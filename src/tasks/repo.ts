// Every query on the task table lives here, so the state machine reads as intent, not SQL.
import { and, asc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { ACTIVE_STATUSES, tasks, type NewTask, type Task } from '../db/schema.ts';

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
   * Claims up to `limit` queued tasks in arrival order and marks them submitted, in one transaction.
   * SKIP LOCKED lets several dispatchers (or instances) share the queue without taking the same row twice.
   */
  async claimQueued(limit: number, account: string): Promise<Task[]> {
    if (limit <= 0) return [];
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .select({ id: tasks.id })
        .from(tasks)
        .where(eq(tasks.status, 'queued'))
        .orderBy(asc(tasks.createdAt))
        .limit(limit)
        .for('update', { skipLocked: true });
      if (rows.length === 0) return [];
      return tx
        .update(tasks)
        .set({ status: 'submitted', account, startedAt: new Date(), lastProgressAt: new Date() })
        .where(inArray(tasks.id, rows.map((r) => r.id)))
        .returning();
    });
  }

  /** Tasks handed to the upstream and not finished: what the tracker follows. */
  async active(): Promise<Task[]> {
    return this.db
      .select()
      .from(tasks)
      .where(and(inArray(tasks.status, [...ACTIVE_STATUSES]), isNotNull(tasks.upstreamId)))
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

  async countInFlight(account: string): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(tasks)
      .where(and(inArray(tasks.status, [...ACTIVE_STATUSES]), eq(tasks.account, account)));
    return row?.n ?? 0;
  }

  /**
   * A task marked submitted whose upstream id was never stored was interrupted between claim and submit
   * (a crash): put it back in the queue so it is submitted once more instead of hanging forever.
   */
  async requeueUnsubmitted(): Promise<number> {
    const rows = await this.db
      .update(tasks)
      .set({ status: 'queued', account: null, startedAt: null })
      .where(and(eq(tasks.status, 'submitted'), isNull(tasks.upstreamId)))
      .returning({ id: tasks.id });
    return rows.length;
  }
}
