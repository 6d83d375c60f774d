// /draw-admin stats: what the bot has been doing, as SQL aggregates over the retained tasks.
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { TASK_STATUSES, tasks, type TaskStatus } from '../db/schema.ts';
import { queueTotals } from '../tasks/usage.ts';

export interface AccountStats {
  account: string;
  succeeded: number;
  failed: number;
  /** Median seconds from submission to the finished result, over succeeded jobs; null without any. */
  medianSeconds: number | null;
}

export interface JobStats {
  byStatus: Record<TaskStatus, number>;
  /** The shared queue, over every server: what the upstream accounts still have to do. */
  queue: { waiting: number; inProgress: number };
  accounts: AccountStats[];
}

/** Stats for one server's jobs, or for all of them (`guildId` undefined); the queue is always global. */
export async function jobStats(db: Db, guildId?: string): Promise<JobStats> {
  const inGuild = guildId === undefined ? undefined : eq(tasks.guildId, guildId);
  const [statusRows, queue, accountRows] = await Promise.all([
    db.select({ status: tasks.status, n: sql<number>`count(*)::int` }).from(tasks).where(inGuild).groupBy(tasks.status),
    queueTotals(db),
    db
      .select({
        account: sql<string>`${tasks.account}`,
        succeeded: sql<number>`count(*) filter (where ${tasks.status} = 'succeeded')::int`,
        failed: sql<number>`count(*) filter (where ${tasks.status} = 'failed')::int`,
        medianSeconds: sql<number | string | null>`percentile_cont(0.5) within group (order by extract(epoch from ${tasks.finishedAt} - ${tasks.startedAt})::float8) filter (where ${tasks.status} = 'succeeded' and ${tasks.startedAt} is not null and ${tasks.finishedAt} is not null)`,
      })
      .from(tasks)
      .where(and(isNotNull(tasks.account), inGuild))
      .groupBy(tasks.account)
      .orderBy(tasks.account),
  ]);
  const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  for (const row of statusRows) byStatus[row.status] = row.n;
  return {
    byStatus,
    queue,
    accounts: accountRows.map((r) => ({ ...r, medianSeconds: r.medianSeconds === null ? null : Number(r.medianSeconds) })),
  };
}
