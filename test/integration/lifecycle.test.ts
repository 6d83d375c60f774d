// The lifecycle's transitions against a real database: placement under the claim lock, fenced submissions,
// instance take-over, liveness, and the outbox's lease.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { tasks, type NewTask, type Task } from '../../src/db/schema.ts';
import { Lifecycle } from '../../src/tasks/lifecycle.ts';
import { place } from '../../src/tasks/placement.ts';
import { TaskRepo } from '../../src/tasks/repo.ts';
import type { Account } from '../../src/upstream/accounts.ts';
import { SimulatorProvider } from '../../src/upstream/simulator.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let testDb: TestDatabase;
let database: Database;
let repo: TaskRepo;
let life: Lifecycle;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await testDb.open();
  repo = new TaskRepo(database.db);
  life = new Lifecycle(database.db);
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

const insert = async (row: NewTask) => (await database.db.insert(tasks).values(row).returning())[0]!;

/** One dispatcher pass's claim with the real placement rules. */
const claim = (accounts: Account[], userMaxConcurrent = 10, owner = ME) =>
  life.claim(owner, (queued, inFlight) => place({ queued, inFlight, accounts, usable: () => true, userMaxConcurrent }).placements);

describe('claiming queued tasks', () => {
  it('takes the oldest first, each once, never more than the account runs at once, even when claims race', async () => {
    for (let i = 0; i < 5; i++) await insert(newTask(`u${i}`));
    const acct = [account('a', 3)];
    const first = await claim(acct.map((a) => ({ ...a, concurrency: 2 })));
    expect(first.map((t) => t.prompt)).toEqual([`p${seq - 4}`, `p${seq - 3}`]);
    expect(first.every((t) => t.status === 'claimed' && t.claim === 1 && t.account === 'a' && t.claimedBy === ME && t.startedAt)).toBe(true);
    // Two instances place at the same moment: the claim lock makes them take turns, so only one more slot is filled.
    const [x, y] = await Promise.all([claim(acct), claim(acct, 10, ME + 1n)]);
    expect(x.length + y.length).toBe(1);
    expect(await claim(acct)).toEqual([]);
  });

  it('tells placement whether an /animate has a motion prompt (only whitespace is none)', async () => {
    const bare = await insert(newTask('u1', { action: 'animate', promptUpstream: ' \n' }));
    const moving = await insert(newTask('u2', { action: 'animate', promptUpstream: 'slowly' }));
    const seen: Record<string, boolean> = {};
    await life.claim(ME, (queued) => {
      for (const q of queued) seen[q.id] = q.hasPrompt;
      return [];
    });
    expect(seen).toEqual({ [bare.id]: false, [moving.id]: true });
  });

  it('lets other users go ahead of a user who already has their share running', async () => {
    const alice = [newTask('alice'), newTask('alice'), newTask('alice')];
    for (const t of alice) await insert(t);
    const bob = await insert(newTask('bob'));
    const claimed = await claim([account('a', 3)], 1);
    expect(claimed.map((t) => t.id)).toEqual([alice[0]!.id, bob.id]);
  });

  it('sends an action to the account its parent ran on, and spreads new jobs by load', async () => {
    const parent = await insert(newTask('u', { status: 'succeeded', account: 'b', upstreamId: 'up-parent' }));
    const child = await insert(newTask('u', { action: 'upscale:1', parentId: parent.id }));
    const fresh = [await insert(newTask('v')), await insert(newTask('w'))];
    const claimed = await claim([account('a', 2), account('b', 2)]);
    const where = Object.fromEntries(claimed.map((t) => [t.id, t.account]));
    expect(where[child.id]).toBe('b');
    // b already has the child: the first new job goes to a, the next to whichever is less loaded (a tie: a).
    expect([where[fresh[0]!.id], where[fresh[1]!.id]]).toEqual(['a', 'a']);
  });
});

describe('fenced submissions', () => {
  it('records a submission only while its claim holds, and an early push counts as the same job', async () => {
    await insert(newTask('u'));
    const [task] = await claim([account('a', 3)]);
    // The claim is lost (a requeue, as when another instance wrongly adopted it) and the job claimed again.
    expect(await life.requeue(task!, false)).toBe(true);
    const [again] = await claim([account('a', 3)]);
    expect(again!.claim).toBe(2);
    // The first submission finishes late: its claim number no longer holds, so it is not the job's.
    expect(await life.submitted(task!, 'up-orphan', undefined)).toBe(false);
    // A push for the second claim's job arrives before the dispatcher records it; then the dispatcher does.
    expect((await life.pushedEarly(again!.id, 'up-2'))!.status).toBe('submitted');
    expect(await life.submitted(again!, 'up-2', { k: 1 })).toBe(true);
    const row = (await repo.get(again!.id))!;
    expect([row.status, row.upstreamId, row.upstreamData]).toEqual(['submitted', 'up-2', { k: 1 }]);
    // A different job for the same claim (the early push was an orphan's) is refused.
    expect(await life.submitted(again!, 'up-3', undefined)).toBe(false);
  });
});

describe('liveness at the relay', () => {
  it('counts any answer as a sign of life, fails nothing with a result, and finds a job the relay lost', async () => {
    const t = await insert(newTask('u', { status: 'submitted', upstreamId: 'up', account: 'a', claimedBy: ME, lastSeenAt: new Date(Date.now() - 3_600_000) }));
    await life.seen([t.id], 1_000);
    expect((await repo.get(t.id))!.lastSeenAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await life.failStuck({ stalledBefore: new Date(Date.now() - 60_000) })).toEqual([]);
    expect(await life.missed([t.id], 3)).toEqual([]);
    expect(await life.missed([t.id], 3)).toEqual([]);
    expect(await life.missed([t.id], 3)).toEqual([t.id]);
    // Progress never goes backwards, and the first "running" starts the JOB_MAX_MINUTES clock.
    expect((await life.progress(t.id, 'up', 'running', 40))!.runningSince).toBeInstanceOf(Date);
    expect(await life.progress(t.id, 'up', 'running', 30)).toBeUndefined();
    expect(await life.progress(t.id, 'other-job', 'running', 90)).toBeUndefined();
    const stored = await life.resultStored(t.id, 'up', { imageUrls: ['u'], actions: [] });
    expect(stored!.deliveryDue).toBeInstanceOf(Date);
    expect(await life.resultStored(t.id, 'up', { imageUrls: ['v'], actions: [] })).toBeUndefined();
    // A finished image wins over any later failure.
    expect(await life.fail(t.id, 'late')).toBeUndefined();
    expect(await life.failStuck({ stalledBefore: new Date(Date.now() + 60_000), runningBefore: new Date(Date.now() + 60_000) })).toEqual([]);
  });
});

describe('a poll\'s progress in one statement', () => {
  it('moves each job as `progress` would: never backwards, only its own upstream job, none with a result', async () => {
    const rows = await Promise.all(
      ['a', 'b', 'c', 'd'].map((n, i) => insert(newTask(`u${n}`, { status: i === 0 ? 'submitted' : 'running', upstreamId: `up-${n}`, account: 'a', claimedBy: ME, progress: 20 }))),
    );
    const [a, b, c, d] = rows as [Task, Task, Task, Task];
    await life.resultStored(d.id, 'up-d', { imageUrls: ['x'], actions: [] });
    const moved = await life.progressMany([
      { id: a.id, upstreamId: 'up-a', status: 'running', progress: 0 }, // starts running: moves although 0 % < 20 %
      { id: b.id, upstreamId: 'up-b', status: 'running', progress: 10 }, // backwards: no
      { id: c.id, upstreamId: 'other', status: 'running', progress: 90 }, // not its job: no
      { id: d.id, upstreamId: 'up-d', status: 'running', progress: 90 }, // has its result: no
    ]);
    expect(moved.map((t) => [t.id, t.status, t.progress, t.runningSince instanceof Date])).toEqual([[a.id, 'running', 20, true]]);
    const more = await life.progressMany([{ id: b.id, upstreamId: 'up-b', status: 'running', progress: 55 }, { id: c.id, upstreamId: 'up-c', status: 'submitted', progress: 30 }]);
    expect(new Map(more.map((t) => [t.id, [t.status, t.progress]]))).toEqual(new Map([[b.id, ['running', 55]], [c.id, ['running', 30]]]));
    expect(await life.progressMany([])).toEqual([]);
  });
});

describe('taking over a stopped instance', () => {
  it('follows its submitted jobs and puts its unsubmitted ones back in the queue', async () => {
    const DEAD = ME + 7n;
    for (let i = 0; i < 3; i++) await insert(newTask(`u${i}`));
    const claimed = await claim([account('a', 3)], 10, DEAD);
    expect(await life.submitted(claimed[0]!, 'up-1', undefined)).toBe(true);
    expect(await repo.trackable(ME, 'a', true)).toEqual([]);
    expect(await repo.otherOwners(ME)).toEqual([DEAD]);
    expect(await life.adopt(DEAD, ME)).toEqual({ adopted: 1, requeued: 2 });
    expect((await repo.trackable(ME, 'a', true)).map((t) => t.upstreamId)).toEqual(['up-1']);
    expect((await repo.get(claimed[1]!.id))!.status).toBe('queued');
    // A second instance adopting at the same time finds nothing left.
    expect(await life.adopt(DEAD, ME + 8n)).toEqual({ adopted: 0, requeued: 0 });
  });
});

describe('the outbox', () => {
  it('gives a final message to one lease at a time, records it once, and retries it later', async () => {
    const t = await insert(newTask('u', { status: 'submitted', upstreamId: 'up', account: 'a', claimedBy: ME }));
    await life.resultStored(t.id, 'up', { imageUrls: ['x'], actions: [] });
    // Another instance's pending message is not this one's to send.
    expect(await life.leaseDeliveries(ME + 1n, 10, 60_000)).toEqual([]);
    const [first, second] = await Promise.all([life.leaseDeliveries(ME, 10, 60_000), life.leaseDeliveries(ME, 10, 60_000)]);
    expect([...first!, ...second!]).toHaveLength(1);
    const leased = [...first!, ...second!][0]!;
    expect(await life.retryDelivery(leased, new Date(Date.now() + 3_600_000))).toBe(true);
    expect(await life.leaseDeliveries(ME, 10, 60_000)).toEqual([]);
    // A stale attempt (its lease gone) records nothing.
    expect(await life.delivered(leased, 'm0')).toBeUndefined();
    await database.db.update(tasks).set({ deliveryDue: new Date(Date.now() - 1_000) });
    const [again] = await life.leaseDeliveries(ME, 10, 60_000);
    const done = await life.delivered(again!, 'm1');
    expect([done!.status, done!.messageId, done!.deliveryDue, done!.deliveryAttempts]).toEqual(['succeeded', 'm1', null, 2]);
    expect(await life.leaseDeliveries(ME, 10, 60_000)).toEqual([]);
  });

  it('marks a final message unsure once an attempt ran out its lease unrecorded, until delivered; adoption voids a dead holder\'s lease', async () => {
    const t = await insert(newTask('u', { status: 'submitted', upstreamId: 'up3', account: 'a', claimedBy: ME + 7n }));
    await life.resultStored(t.id, 'up3', { imageUrls: ['x'], actions: [] });
    const [first] = await life.leaseDeliveries(ME + 7n, 10, 60_000);
    expect(first!.deliveryUnsure).toBe(false);
    // Its process dies mid-send: another instance adopts the row and may lease it at once.
    await life.adopt(ME + 7n, ME);
    const [second] = await life.leaseDeliveries(ME, 10, 60_000);
    expect([second!.id, second!.deliveryUnsure]).toEqual([t.id, true]);
    // A failed attempt since does not clear the doubt about the first: it stays until the message is delivered.
    await life.retryDelivery(second!, new Date(Date.now() - 1_000));
    const [third] = await life.leaseDeliveries(ME, 10, 60_000);
    expect(third!.deliveryUnsure).toBe(true);
  });

  it('ends a task once, and its failure message is due once', async () => {
    const other = await insert(newTask('u', { status: 'running', upstreamId: 'up2', account: 'a' }));
    const [a, b] = await Promise.all([life.fail(other.id, 'x'), life.fail(other.id, 'y')]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    expect(await life.leaseDeliveries(ME, 10, 60_000)).toHaveLength(1);
    const queued = await insert(newTask('u'));
    const click = { by: 'mod', token: 'tok', tokenExpiresAt: new Date(Date.now() + 60_000) };
    expect((await life.cancel(queued.id, ['queued'], click))!.cancelledBy).toBe('mod');
    expect(await life.cancel(queued.id, ['queued'], click)).toBeUndefined();
  });
});
