// Deleting old tasks without getting in the way of new jobs: finished tasks only, oldest first, in small
// batches that each commit on their own. Rows another transaction has locked are skipped (SKIP LOCKED), so a
// purge never waits on, nor holds up, the dispatcher; what it skips goes on the next run.
import { and, isNull, asc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { tasks, type TaskStatus } from '../db/schema.ts';

/** Finished tasks only: queued/submitted/running ones are failed by the stuck-job sweep first. */
export const PURGEABLE_STATUSES = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly TaskStatus[];
export const DEFAULT_PURGE_BATCH = 1000;
const DAY_MS = 86_400_000;

export interface PurgeOptions {
  /** Tasks created more than this many days ago (0: every finished task). */
  olderThanDays: number;
  /** Only this server's tasks; undefined = every server. */
  guildId?: string;
  /** Count what would go, delete nothing. */
  dryRun?: boolean;
  batchSize?: number;
  /** After each committed batch (progress logging for very large purges). */
  onBatch?: (progress: { batches: number; deleted: number }) => void | Promise<void>;
  now?: Date;
}

export interface PurgeReport {
  /** Deleted, or for a dry run: would be deleted. */
  count: number;
  /** Batches run, or for a dry run: batches it would take. */
  batches: number;
  cutoff: Date;
  dryRun: boolean;
  guildId: string | undefined;
}

export async function purgeTasks(db: Db, opts: PurgeOptions): Promise<PurgeReport> {
  const batchSize = opts.batchSize ?? DEFAULT_PURGE_BATCH;
  const cutoff = new Date((opts.now ?? new Date()).getTime() - opts.olderThanDays * DAY_MS);
  const where: SQL = and(
    lt(tasks.createdAt, cutoff),
    inArray(tasks.status, [...PURGEABLE_STATUSES]),
    // A final message still in the outbox keeps its row until it is sent or given up.
    isNull(tasks.deliveryDue),
    opts.guildId === undefined ? undefined : eq(tasks.guildId, opts.guildId),
  )!;
  const report = { cutoff, dryRun: Boolean(opts.dryRun), guildId: opts.guildId };

  if (opts.dryRun) {
    const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(tasks).where(where);
    const count = row?.n ?? 0;
    return { ...report, count, batches: Math.ceil(count / batchSize) };
  }

  let count = 0;
  let batches = 0;
  for (;;) {
    // One statement = one short transaction: row locks on at most `batchSize` rows, released at once.
    const victims = db.select({ id: tasks.id }).from(tasks).where(where).orderBy(asc(tasks.createdAt)).limit(batchSize).for('update', { skipLocked: true });
    // `= any(array(…))`: the ids are picked first, then deleted by primary key. A plain `in (select …)` may
    // be planned as a hash join over a scan of the whole table, once per batch.
    const deleted = await db.delete(tasks).where(sql`${tasks.id} = any(array(${victims}))`).returning({ id: tasks.id });
    if (deleted.length === 0) break;
    count += deleted.length;
    batches += 1;
    await opts.onBatch?.({ batches, deleted: count });
    if (deleted.length < batchSize) break;
  }
  return { ...report, count, batches };
}
