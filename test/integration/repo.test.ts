// The queue's database side: placement under the claim lock, instance take-over and the delivery lease.
// Runs on PGlite, and on real PostgreSQL when TEST_DATABASE_URL is set.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { tasks } from '../../src/db/schema.ts';
import { place } from '../../src/tasks/placement.ts';
import { TaskRepo } from '../../src/tasks/repo.ts';
import type { Account } from '../../src/upstream/accounts.ts';
import { SimulatorProvider } from '../../src/upstream/simulator.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

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
beforeEach(async () => {
  await database.db.delete(tasks);
});

const ME = 0x6d6a_0000_0000_0001n;
const simulator = new SimulatorProvider(10);
const account = (id: string, concurrency: number): Account => ({ id, provider: simulator, concurrency, weight: 1 });

let seq = 0;
const newTask = (user: string, extra: Partial<typeof tasks.$inferInsert> = {}) => {
  seq += 1;
  return {
    id: randomUUID(),
    channelId: 'c',
    userId: user,
    action: 'imagine',
    prompt: `p${seq}`,
    promptUpstream: `p${seq}`,
    provider: 'simulator',
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)),
    ...extra,
  };
};

/** One dispatcher pass's claim with the real placement rules. */
const claim = (accounts: Account[], userMaxConcurrent = 10, owner = ME) =>
  repo.claim(owner, (queued, inFlight) => place({ queued, inFlight, accounts, usable: () => true, userMaxConcurrent }).placements);

describe('claiming queued tasks', () => {
  it('takes the oldest first, each once, never more than the account runs at once, even when claims race', async () => {
    for (let i = 0; i < 5; i++) await repo.insert(newTask(`u${i}`));
    const acct = [account('a', 3)];
    const first = await claim(acct.map((a) => ({ ...a, concurrency: 2 })));
    expect(first.map((t) => t.prompt)).toEqual([`p${seq - 4}`, `p${seq - 3}`]);
    expect(first.every((t) => t.status === 'submitted' && t.account === 'a' && t.claimedBy === ME && t.startedAt)).toBe(true);
    // Two instances place at the same moment: the claim lock makes them take turns, so only one more slot is filled.
    const [x, y] = await Promise.all([claim(acct), claim(acct, 10, ME + 1n)]);
    expect(x.length + y.length).toBe(1);
    expect(await claim(acct)).toEqual([]);
  });

  it('lets other users go ahead of a user who already has their share running', async () => {
    const alice = [newTask('alice'), newTask('alice'), newTask('alice')];
    for (const t of alice) await repo.insert(t);
    const bob = await repo.insert(newTask('bob'));
    const claimed = await claim([account('a', 3)], 1);
    expect(claimed.map((t) => t.id)).toEqual([alice[0]!.id, bob.id]);
  });

  it('sends an action to the account its parent ran on, and spreads new jobs by load', async () => {
    const parent = await repo.insert(newTask('u', { status: 'succeeded', account: 'b', upstreamId: 'up-parent' }));
    const child = await repo.insert(newTask('u', { action: 'upscale:1', parentId: parent.id }));
    const fresh = [await repo.insert(newTask('v')), await repo.insert(newTask('w'))];
    const claimed = await claim([account('a', 2), account('b', 2)]);
    const where = Object.fromEntries(claimed.map((t) => [t.id, t.account]));
    expect(where[child.id]).toBe('b');
    // b already has the child: the first new job goes to a, the next to whichever is less loaded (a tie: a).
    expect([where[fresh[0]!.id], where[fresh[1]!.id]]).toEqual(['a', 'a']);
  });
});

describe('taking over a stopped instance', () => {
  it('follows its submitted jobs and puts its unsubmitted ones back in the queue', async () => {
    const DEAD = ME + 7n;
    for (let i = 0; i < 3; i++) await repo.insert(newTask(`u${i}`));
    const claimed = await claim([account('a', 3)], 10, DEAD);
    await repo.update(claimed[0]!.id, { upstreamId: 'up-1' });
    expect(await repo.active(ME)).toEqual([]);
    expect(await repo.otherOwners(ME)).toEqual([DEAD]);
    expect(await repo.adopt(DEAD, ME)).toEqual({ adopted: 1, requeued: 2 });
    expect((await repo.active(ME)).map((t) => t.upstreamId)).toEqual(['up-1']);
    expect((await repo.get(claimed[1]!.id))!.status).toBe('queued');
    // A second instance adopting at the same time finds nothing left.
    expect(await repo.adopt(DEAD, ME + 8n)).toEqual({ adopted: 0, requeued: 0 });
  });
});

describe('ending a task', () => {
  it('gives the delivery lease to one instance at a time, and ends a task once', async () => {
    const t = await repo.insert(newTask('u', { status: 'running', upstreamId: 'up', account: 'a' }));
    const [first, second] = await Promise.all([repo.leaseDelivery(t.id, 60_000), repo.leaseDelivery(t.id, 60_000)]);
    expect([first, second].filter(Boolean)).toHaveLength(1);
    await repo.releaseDelivery(t.id, 1);
    expect(await repo.leaseDelivery(t.id, 60_000)).toBeDefined();
    expect((await repo.markDelivered(t.id, 'm1'))!.status).toBe('succeeded');
    expect(await repo.markFailed(t.id, 'late')).toBeUndefined();
    expect(await repo.leaseDelivery(t.id, 60_000)).toBeUndefined();
    const other = await repo.insert(newTask('u', { status: 'running', upstreamId: 'up2' }));
    const [a, b] = await Promise.all([repo.markFailed(other.id, 'x'), repo.markFailed(other.id, 'y')]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
  });
});
