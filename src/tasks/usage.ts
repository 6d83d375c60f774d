// How much of the queue and of the daily quotas is in use: the counts the job limits (src/admin/quotas.ts)
// and /info read. Each takes the database or a transaction, so the limits can count under their locks.
import { and, eq, gte, inArray, isNotNull, isNull, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { ACTIVE_STATUSES, tasks } from '../db/schema.ts';

const count = sql<number>`count(*)::int`;
const sameGuild = (guildId: string | null) => (guildId === null ? isNull(tasks.guildId) : eq(tasks.guildId, guildId));

/**
 * Jobs created since `since` in one server (and, with `userId`, by one user there). Failed and cancelled
 * jobs do not count: a job that timed out or was cancelled costs nobody their quota.
 */
export async function jobsSince(db: Db, where: { guildId: string | null; userId?: string }, since: Date): Promise<number> {
  const [row] = await db
    .select({ n: count })
    .from(tasks)
    .where(
      and(
        sameGuild(where.guildId),
        where.userId === undefined ? undefined : eq(tasks.userId, where.userId),
        gte(tasks.createdAt, since),
        notInArray(tasks.status, ['failed', 'cancelled']),
      ),
    );
  return row?.n ?? 0;
}

/** One user's jobs waiting in the queue and at the relays, over every server. */
export async function userQueue(db: Db, userId: string): Promise<{ waiting: number; inProgress: number }> {
  const [row] = await db
    .select({
      waiting: sql<number>`count(*) filter (where ${tasks.status} = 'queued')::int`,
      inProgress: sql<number>`count(*) filter (where ${inArray(tasks.status, [...ACTIVE_STATUSES])})::int`,
    })
    .from(tasks)
    .where(and(eq(tasks.userId, userId), inArray(tasks.status, ['queued', ...ACTIVE_STATUSES])));
  return { waiting: row?.waiting ?? 0, inProgress: row?.inProgress ?? 0 };
}

/** Jobs at each relay account right now (submitted or running), by account id. */
export async function inFlightByAccount(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .select({ account: sql<string>`${tasks.account}`, n: count })
    .from(tasks)
    .where(and(inArray(tasks.status, [...ACTIVE_STATUSES]), isNotNull(tasks.account)))
    .groupBy(tasks.account);
  return new Map(rows.map((r) => [r.account, r.n]));
}

/** The shared queue over every server: jobs waiting, and jobs at the relays. */
export async function queueTotals(db: Db): Promise<{ waiting: number; inProgress: number }> {
  const [row] = await db
    .select({
      waiting: sql<number>`count(*) filter (where ${tasks.status} = 'queued')::int`,
      inProgress: sql<number>`count(*) filter (where ${inArray(tasks.status, [...ACTIVE_STATUSES])})::int`,
    })
    .from(tasks)
    .where(inArray(tasks.status, ['queued', ...ACTIVE_STATUSES]));
  return { waiting: row?.waiting ?? 0, inProgress: row?.inProgress ?? 0 };
}
