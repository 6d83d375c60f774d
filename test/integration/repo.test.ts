// Runs on PGlite, and on real PostgreSQL when TEST_DATABASE_URL is set.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { TaskRepo } from '../../src/tasks/repo.ts';
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

const newTask = (n: number) => ({
  id: randomUUID(),
  channelId: 'c',
  userId: `u${n}`,
  action: 'imagine',
  prompt: `p${n}`,
  promptUpstream: `p${n}`,
  provider: 'simulator',
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
});

describe('TaskRepo', () => {
  it('claims queued tasks oldest first, each once, never more than asked', async () => {
    const inserted = [];
    for (const n of [3, 1, 2, 5, 4]) inserted.push(await repo.insert(newTask(n)));
    const first = await repo.claimQueued(2, 'acct');
    expect(first.map((t) => t.prompt)).toEqual(['p1', 'p2']);
    expect(first.every((t) => t.status === 'submitted' && t.account === 'acct' && t.startedAt)).toBe(true);
    const [a, b] = await Promise.all([repo.claimQueued(2, 'acct'), repo.claimQueued(2, 'acct')]);
    const claimed = [...a, ...b].map((t) => t.prompt).sort();
    expect(claimed).toEqual(['p3', 'p4', 'p5']);
    expect(await repo.claimQueued(5, 'acct')).toEqual([]);
    expect(await repo.countInFlight('acct')).toBe(5);
    expect(await repo.claimQueued(0, 'acct')).toEqual([]);
  });

  it('requeues tasks that were claimed but never reached the upstream, and tracks the rest', async () => {
    const claimed = await repo.claimQueued(10, 'acct');
    expect(claimed).toEqual([]);
    const t = await repo.insert(newTask(9));
    const [c] = await repo.claimQueued(1, 'acct');
    expect(c!.id).toBe(t.id);
    const active = await repo.active();
    expect(active.find((x) => x.id === t.id)).toBeUndefined(); // no upstream id yet: not tracked
    expect(await repo.requeueUnsubmitted()).toBe(6);
    expect((await repo.get(t.id))!.status).toBe('queued');
    expect(await repo.claimQueued(10, 'acct')).toHaveLength(6);
    await repo.update(t.id, { upstreamId: 'up-1', upstreamData: { imageId: 'x' } });
    expect((await repo.active()).map((x) => x.upstreamId)).toEqual(['up-1']);
    expect((await repo.get(t.id))!.upstreamData).toEqual({ imageId: 'x' });
  });
});
