// purgeTasks on real PostgreSQL: batches, the lock test (rows another transaction holds are skipped), and a
// 100,000-row run while new jobs are queued.
import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { tasks } from '../../src/db/schema.ts';
import { purgeTasks } from '../../src/maintenance/purge.ts';
import { Lifecycle } from '../../src/tasks/lifecycle.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { countTasks, seedTasks } from '../support/seed.ts';

let testDb: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await testDb.open();
});
afterAll(async () => {
  await database?.close();
  await testDb?.destroy();
});
beforeEach(async () => {
  await database.db.delete(tasks);
});

/** Every row's id and status, to prove nothing changed. */
const snapshot = () => database.db.select({ id: tasks.id, status: tasks.status }).from(tasks).orderBy(tasks.id);

async function seedMix() {
  const db = database.db;
  await seedTasks(db, { count: 250, status: 'succeeded', age: '40 days', guildId: 'g1' });
  await seedTasks(db, { count: 50, status: 'failed', age: '35 days', guildId: 'g2' });
  await seedTasks(db, { count: 30, status: 'cancelled', age: '31 days', guildId: null });
  // Old but not finished: the stuck-job sweep fails these first; a purge must leave them alone.
  await seedTasks(db, { count: 20, status: 'queued', age: '40 days', guildId: 'g1' });
  await seedTasks(db, { count: 10, status: 'submitted', age: '40 days', guildId: 'g1' });
  await seedTasks(db, { count: 10, status: 'running', age: '40 days', guildId: 'g2' });
  // Recent.
  await seedTasks(db, { count: 100, status: 'succeeded', age: '29 days', guildId: 'g1' });
}

describe('purgeTasks', () => {
  it('deletes only finished tasks older than the cutoff, in batches that each commit on their own', async () => {
    await seedMix();
    const oldFinished = and(lt(tasks.createdAt, sql`now() - interval '30 days'`), inArray(tasks.status, ['succeeded', 'failed', 'cancelled']));
    const seen: Array<{ batches: number; deleted: number; left: number }> = [];
    const report = await purgeTasks(database.db, {
      olderThanDays: 30,
      batchSize: 64,
      // Between batches, from the pool (another connection on PostgreSQL): the previous batch is already committed.
      onBatch: async (p) => void seen.push({ ...p, left: await countTasks(database.db, oldFinished) }),
    });
    expect(report).toMatchObject({ count: 330, batches: 6, dryRun: false, guildId: undefined });
    expect(seen.map((s) => s.left)).toEqual([266, 202, 138, 74, 10, 0]);
    expect(seen.at(-1)).toMatchObject({ batches: 6, deleted: 330 });
    expect(await countTasks(database.db)).toBe(140);
    expect(await countTasks(database.db, inArray(tasks.status, ['queued', 'submitted', 'running']))).toBe(40);
    expect(await countTasks(database.db, lt(tasks.createdAt, sql`now() - interval '30 days'`))).toBe(40);
    expect(await purgeTasks(database.db, { olderThanDays: 30 })).toMatchObject({ count: 0, batches: 0 });
  });

  it('a dry run counts what would go and changes nothing', async () => {
    await seedMix();
    const before = await snapshot();
    const dry = await purgeTasks(database.db, { olderThanDays: 30, batchSize: 100, dryRun: true });
    expect(dry).toMatchObject({ count: 330, batches: 4, dryRun: true });
    expect(await snapshot()).toEqual(before);
    const real = await purgeTasks(database.db, { olderThanDays: 30, batchSize: 100 });
    expect(real).toMatchObject({ count: 330, batches: 4, dryRun: false });
  });

  it('limits a purge to one server when asked, and days 0 takes every finished task', async () => {
    await seedMix();
    expect(await purgeTasks(database.db, { olderThanDays: 0, guildId: 'g1' })).toMatchObject({ count: 350, batches: 1, guildId: 'g1' });
    expect(await countTasks(database.db, eq(tasks.guildId, 'g1'))).toBe(30); // the queued and submitted ones
    expect(await countTasks(database.db, eq(tasks.guildId, 'g2'))).toBe(60);
    expect(await countTasks(database.db, sql`${tasks.guildId} is null`)).toBe(30);
  });

  it('skips rows another transaction holds instead of waiting for them', async () => {
    await seedTasks(database.db, { count: 10, status: 'succeeded', age: '40 days', guildId: 'g1' });
    const [locked] = await database.db.select({ id: tasks.id }).from(tasks).limit(1);
    const report = await database.db.transaction(async (tx) => {
      await tx.select().from(tasks).where(eq(tasks.id, locked!.id)).for('update');
      // The purge runs on other pool connections while this transaction holds the row.
      return purgeTasks(database.db, { olderThanDays: 30, batchSize: 3 });
    });
    expect(report.count).toBe(9);
    expect(await database.db.select({ id: tasks.id }).from(tasks)).toEqual([locked]);
  });

  it('purges 100,000 rows in batches of 1,000 while new jobs are queued and claimed', async () => {
    const db = database.db;
    const life = new Lifecycle(db);
    await seedTasks(db, { count: 100_000, status: 'succeeded', age: '60 days', guildId: 'g1' });
    await seedTasks(db, { count: 1_000, status: 'succeeded', age: '1 day', guildId: 'g1' });
    // A table this size has planner statistics (autovacuum): without them, each batch sorts every candidate.
    await db.execute(sql`analyze tasks`);
    const newJobs: string[] = [];
    const started = performance.now();
    const report = await purgeTasks(db, {
      olderThanDays: 30,
      onBatch: async ({ batches }) => {
        // A /draw arriving mid-purge is stored and claimed by the dispatcher without waiting for the purge.
        if (batches % 25 !== 0) return;
        const [task] = await db.insert(tasks).values({ id: crypto.randomUUID(), channelId: '1', userId: 'u', action: 'imagine', prompt: 'p', promptUpstream: 'p', provider: 'simulator' }).returning();
        const claimed = await life.claim(1n, (queued) => queued.slice(0, 1).map((q) => ({ id: q.id, account: 'acct' })));
        expect(claimed.map((t) => t.id)).toEqual([task!.id]);
        newJobs.push(task!.id);
      },
    });
    const ms = Math.round(performance.now() - started);
    console.info(`purged ${report.count} rows in ${report.batches} batches in ${ms} ms on ${database.kind}`);
    expect(report).toMatchObject({ count: 100_000, batches: 100 });
    expect(newJobs).toHaveLength(4);
    expect(await countTasks(db)).toBe(1_004);
  }, 120_000);
});
