// Instances mark themselves alive with a session advisory lock; a stopped instance's jobs are taken over by
// the next check of a live one. Two processes on one database need real PostgreSQL.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { createLogger } from '../../src/log.ts';
import { tasks } from '../../src/db/schema.ts';
import { Instance } from '../../src/tasks/instance.ts';
import { Lifecycle } from '../../src/tasks/lifecycle.ts';
import { TaskRepo } from '../../src/tasks/repo.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const log = createLogger('silent');
let testDb: TestDatabase;
let database: Database;
let repo: TaskRepo;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await testDb.open();
  repo = new TaskRepo(database.db);
});
afterAll(async () => {
  await database?.close();
  await testDb?.destroy();
});

const instance = (db: Database) => new Instance(db, new Lifecycle(db.db), new TaskRepo(db.db), log);

const running = async (owner: bigint | null, upstreamId: string | null) =>
  (await database.db.insert(tasks).values({
    id: randomUUID(),
    channelId: 'c',
    userId: 'u',
    action: 'imagine',
    prompt: 'p',
    promptUpstream: 'p',
    provider: 'simulator',
    account: 'simulator',
    status: upstreamId ? 'submitted' : 'claimed',
    claimedBy: owner,
    upstreamId,
  }).returning())[0]!;

describe('Instance', () => {
  it('holds its lock and adopts jobs whose instance is gone (or was never recorded)', async () => {
    const me = instance(database);
    const ghost = await running(0x6d6a_0000_dead_0001n, 'up-ghost');
    const legacy = await running(null, 'up-legacy');
    const unsent = await running(0x6d6a_0000_dead_0001n, null);
    await me.check();
    expect(await database.lockHeld(me.key)).toBe(true);
    expect((await repo.get(ghost.id))!.claimedBy).toBe(me.key);
    expect((await repo.get(legacy.id))!.claimedBy).toBe(me.key);
    expect((await repo.get(unsent.id))!.status).toBe('queued');
    await me.check(); // idempotent
    expect(await database.lockHeld(me.key)).toBe(true);
  });

  it('leaves a live instance its jobs, and takes them once its connection is gone', async () => {
    const otherDb = await testDb.open();
    const other = instance(otherDb);
    await other.check();
    const me = instance(database);
    const theirs = await running(other.key, 'up-theirs');
    await me.check();
    expect((await repo.get(theirs.id))!.claimedBy).toBe(other.key);
    await otherDb.close(); // the process died: its session, and the lock, are gone
    await me.check();
    expect((await repo.get(theirs.id))!.claimedBy).toBe(me.key);
  });
});
