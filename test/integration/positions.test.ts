// The queue-position statement on real PostgreSQL: places in
// arrival order, only changes are returned, edits throttled (harder far back), and the UPDATE alone decides who
// edits, so concurrent passes never return the same change twice.
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { tasks, type NewTask } from '../../src/db/schema.ts';
import { Lifecycle } from '../../src/tasks/lifecycle.ts';
import { FAR_INTERVAL_MS, NEAR_POSITIONS } from '../../src/tasks/positions.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

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

const HOUR = 3_600_000;
const NEAR_MS = 1_000;

/** `n` queued tasks, one second apart in arrival order, their tokens alive unless said. */
async function queue(n: number, opts: { from?: number; tokenAlive?: boolean } = {}): Promise<string[]> {
  const from = opts.from ?? 0;
  const rows: NewTask[] = Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    channelId: 'c',
    userId: 'u',
    action: 'imagine',
    prompt: `p${from + i}`,
    promptUpstream: `p${from + i}`,
    provider: 'simulator',
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + (from + i) * 1000),
    interactionToken: `token-${from + i}`,
    tokenExpiresAt: new Date(Date.now() + (opts.tokenAlive === false ? -1 : 1) * HOUR),
  }));
  await database.db.insert(tasks).values(rows);
  return rows.map((r) => r.id!);
}

const movePositions = (db: Database['db'], nearIntervalMs: number) => new Lifecycle(db).movePositions({ nearPositions: NEAR_POSITIONS, nearIntervalMs, farIntervalMs: FAR_INTERVAL_MS });
const places = async () => (await movePositions(database.db, NEAR_MS)).map((m) => [m.task.prompt, m.position]);
/** Pretends every place was last shown `ms` ago. */
const age = (ms: number) => database.db.update(tasks).set({ positionShownAt: sql`now() - ${`${ms} milliseconds`}::interval` });

describe('queue positions', () => {
  it('places queued tasks in arrival order and returns each change once', async () => {
    const ids = await queue(3);
    expect(await places()).toEqual([['p0', 1], ['p1', 2], ['p2', 3]]);
    expect(await places()).toEqual([]);
    const [row] = await database.db.select().from(tasks).where(eq(tasks.id, ids[2]!));
    expect(row!.queuePosition).toBe(3);
    expect(row!.positionShownAt).toBeInstanceOf(Date);
  });

  it('moves the others up when one leaves the queue, no sooner than the edit interval', async () => {
    const ids = await queue(3);
    await places();
    await database.db.update(tasks).set({ status: 'submitted' }).where(eq(tasks.id, ids[0]!));
    // Shown a moment ago: not yet.
    expect(await places()).toEqual([]);
    await age(NEAR_MS + 100);
    expect(await places()).toEqual([['p1', 1], ['p2', 2]]);
  });

  it('ranks a task whose reply can no longer be edited, but never returns it', async () => {
    await queue(1, { tokenAlive: false });
    await queue(1, { from: 1 });
    expect(await places()).toEqual([['p1', 2]]);
  });

  it(`refreshes places beyond ${NEAR_POSITIONS} only every ${FAR_INTERVAL_MS / 1000} s`, async () => {
    const ids = await queue(NEAR_POSITIONS + 3);
    expect(await places()).toHaveLength(NEAR_POSITIONS + 3);
    await database.db.update(tasks).set({ status: 'cancelled' }).where(eq(tasks.id, ids[0]!));
    await age(NEAR_MS + 100);
    const near = await places();
    expect(near).toHaveLength(NEAR_POSITIONS);
    expect(near.at(-1)).toEqual([`p${NEAR_POSITIONS}`, NEAR_POSITIONS]);
    await age(FAR_INTERVAL_MS + 100);
    expect(await places()).toEqual([[`p${NEAR_POSITIONS + 1}`, NEAR_POSITIONS + 1], [`p${NEAR_POSITIONS + 2}`, NEAR_POSITIONS + 2]]);
  });

  it('never returns the same change to two passes running at once', async () => {
    await queue(40);
    const passes = await Promise.all(Array.from({ length: 4 }, () => movePositions(database.db, NEAR_MS)));
    const returned = passes.flat().map((m) => m.task.id);
    expect(returned).toHaveLength(40);
    expect(new Set(returned).size).toBe(40);
  });
});
