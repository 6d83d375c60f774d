// Many task rows at once for maintenance tests: one INSERT … SELECT generate_series, fast even for 100,000.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../src/db/client.ts';
import { tasks, type TaskStatus } from '../../src/db/schema.ts';

export interface SeedSpec {
  count: number;
  status: TaskStatus;
  /** How long ago the rows were created, as a PostgreSQL interval ('40 days', '2 hours'). */
  age: string;
  guildId?: string | null;
  userId?: string;
  channelId?: string;
  account?: string | null;
  prompt?: string;
  /** Seconds from start to finish, for finished rows (median-time stats). */
  durationSeconds?: number;
}

export async function seedTasks(db: Db, spec: SeedSpec): Promise<void> {
  const finished = ['succeeded', 'failed', 'cancelled'].includes(spec.status);
  const duration = `${spec.durationSeconds ?? 30} seconds`;
  await db.execute(sql`
    insert into tasks (id, guild_id, channel_id, user_id, action, prompt, prompt_upstream, provider, account, status,
                       created_at, started_at, last_progress_at, last_seen_at, finished_at)
    select gen_random_uuid(), ${spec.guildId ?? null}, ${spec.channelId ?? '1'}, ${spec.userId ?? '100000000000000009'}, 'imagine',
           ${spec.prompt ?? 'seeded'} || ' #' || i, 'seeded', 'simulator', ${spec.account ?? null}, ${spec.status},
           now() - ${spec.age}::interval + i * interval '1 millisecond',
           case when ${spec.status} = 'queued' then null else now() - ${spec.age}::interval end,
           case when ${spec.status} = 'queued' then null else now() - ${spec.age}::interval end,
           case when ${spec.status} = 'queued' then null else now() - ${spec.age}::interval end,
           case when ${finished} then now() - ${spec.age}::interval + ${duration}::interval end
    from generate_series(1, ${spec.count}::int) as i`);
}

export async function countTasks(db: Db, where?: SQL): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(tasks).where(where);
  return row?.n ?? 0;
}
