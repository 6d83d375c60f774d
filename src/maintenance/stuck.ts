// Jobs that will never finish on their own: handed to the upstream but silent for too long (a lost relay job,
// a crash mid-flight), or queued for so long that the user has surely given up. Claiming them marks them
// failed in the same statement, so exactly one sweep (of one instance) tells the user.
import { and, eq, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { ACTIVE_STATUSES, tasks, type Task } from '../db/schema.ts';

/** Locale keys of the user-facing reasons (namespace admin, see Delivery.failure). */
export const STALLED_REASON = 'admin:errors.jobStalled';
export const QUEUE_TIMEOUT_REASON = 'admin:errors.queueTimeout';
export const TOO_LONG_REASON = 'admin:errors.jobTooLong';

/** At most this many per kind per sweep: each one costs a Discord message; the rest go on the next sweep. */
const SWEEP_LIMIT = 500;

export interface StuckCutoffs {
  /** Submitted/running tasks whose last sign of life (progress, else start) is older than this. */
  stalledBefore?: Date;
  /** Queued tasks created before this. */
  queuedBefore?: Date;
  /** Submitted/running tasks started before this, however lively (the absolute cap). */
  startedBefore?: Date;
}

/** Marks stuck tasks failed and returns them (as now stored) so the caller can tell their users. */
export async function claimStuckTasks(db: Db, cutoffs: StuckCutoffs, now = new Date()): Promise<Task[]> {
  const out: Task[] = [];
  if (cutoffs.stalledBefore) {
    const stalled = and(
      inArray(tasks.status, [...ACTIVE_STATUSES]),
      // A stored result is delivery's business (it retries, then gives up on its own).
      isNull(tasks.imageUrls),
      // Raw SQL gets no column mapping: pass the time as text (postgres.js refuses a bare Date here).
      sql`coalesce(${tasks.lastProgressAt}, ${tasks.startedAt}, ${tasks.createdAt}) < ${cutoffs.stalledBefore.toISOString()}::timestamptz`,
    );
    out.push(...(await fail(db, stalled!, STALLED_REASON, now)));
  }
  if (cutoffs.startedBefore) {
    const tooLong = and(
      inArray(tasks.status, [...ACTIVE_STATUSES]),
      isNull(tasks.imageUrls),
      sql`${tasks.startedAt} < ${cutoffs.startedBefore.toISOString()}::timestamptz`,
    );
    out.push(...(await fail(db, tooLong!, TOO_LONG_REASON, now)));
  }
  if (cutoffs.queuedBefore) {
    out.push(...(await fail(db, and(eq(tasks.status, 'queued'), lt(tasks.createdAt, cutoffs.queuedBefore))!, QUEUE_TIMEOUT_REASON, now)));
  }
  return out;
}

function fail(db: Db, where: SQL, reason: string, now: Date): Promise<Task[]> {
  const ids = db.select({ id: tasks.id }).from(tasks).where(where).limit(SWEEP_LIMIT).for('update', { skipLocked: true });
  return db.update(tasks).set({ status: 'failed', failReason: reason, finishedAt: now }).where(inArray(tasks.id, ids)).returning();
}
