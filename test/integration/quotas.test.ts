// The job limits are exact: TaskService.accept counts and inserts in one transaction under the user's and the
// server's advisory locks, so many accepts at the same instant never get past a quota — whether they share a
// batch (one process) or race from several processes. On real PostgreSQL, with concurrent connections.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Quotas, type Limits } from '../../src/admin/quotas.ts';
import { AdminRepo } from '../../src/admin/repo.ts';
import type { Database } from '../../src/db/client.ts';
import { tasks, type Task } from '../../src/db/schema.ts';
import { Acceptor, JobRefused, UsageMemory, countUsage } from '../../src/tasks/accept.ts';
import { TaskService, type JobRequest } from '../../src/tasks/service.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { countTasks } from '../support/seed.ts';

let testDb: TestDatabase;
let database: Database;
let admin: AdminRepo;
let kicks = 0;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await testDb.open();
  admin = new AdminRepo(database.db);
  await admin.start();
});
afterAll(async () => {
  await database?.close();
  await testDb?.destroy();
});

/** New jobs are under the daily quotas (as the preconditions of /draw, /blend, /describe and a pick declare). */
const NEW_JOBS: ReadonlySet<string> = new Set(['imagine', 'blend', 'describe']);

interface Service {
  accept(job: JobRequest): Promise<unknown>;
  acceptor: Acceptor;
}

/** A process's job intake on `db` (another Database: another instance), with these limits. */
function service(limits: Partial<Limits>, db: Database = database): Service {
  const quotas = new Quotas(db.db, admin, { USER_DAILY_QUOTA: 0, GUILD_DAILY_QUOTA: 0, USER_MAX_QUEUED: 1000, ...limits });
  const acceptor = new Acceptor(db.db, new UsageMemory(), { limits: (guildId, applied) => quotas.jobLimits(guildId, applied), onStored: () => void kicks++ });
  const svc = new TaskService(acceptor, 'simulator');
  return { accept: (j) => svc.accept(j, { daily: NEW_JOBS.has(j.action), queue: true }), acceptor };
}

let token = 0;
function job(guildId: string, userId: string, extra: Partial<JobRequest> = {}): JobRequest {
  return {
    interaction: { token: `tok-${++token}`, createdTimestamp: Date.now(), locale: 'en-US', guildId, channelId: 'c1', user: { id: userId } },
    action: 'imagine',
    prompt: 'a cat',
    promptUpstream: 'a cat',
    ...extra,
  };
}

/** Runs every accept at once; returns how many were stored and the refusals' keys. */
async function burst(svc: Service | Service[], jobs: JobRequest[]) {
  const services = Array.isArray(svc) ? svc : [svc];
  const results = await Promise.allSettled(jobs.map((j, i) => services[i % services.length]!.accept(j)));
  const refused = results.filter((r) => r.status === 'rejected').map((r) => (r.reason instanceof JobRefused ? r.reason.refusal.key : String(r.reason)));
  return { stored: results.filter((r) => r.status === 'fulfilled').length, refused };
}

const rowsOf = (guildId: string, userId?: string) =>
  countTasks(database.db, and(eq(tasks.guildId, guildId), userId === undefined ? undefined : eq(tasks.userId, userId)));

describe('exact quotas under concurrent accepts', () => {
  it('one user sending 30 jobs at once gets exactly their daily quota', async () => {
    const svc = service({ USER_DAILY_QUOTA: 5 });
    const { stored, refused } = await burst(svc, Array.from({ length: 30 }, () => job('g-user', 'alice')));
    expect(stored).toBe(5);
    expect(new Set(refused)).toEqual(new Set(['queue:errors.userQuota']));
    expect(await rowsOf('g-user', 'alice')).toBe(5);
    // The quota is per server: the same user elsewhere, and another user here, still have theirs.
    expect((await burst(svc, [job('g-user-2', 'alice'), job('g-user', 'bob')])).stored).toBe(2);
  });

  it('many users at once never push a server past its quota', async () => {
    await admin.setDailyQuota('g-guild', 7, 'mod');
    const svc = service({ USER_DAILY_QUOTA: 100 });
    const jobs = Array.from({ length: 24 }, (_, i) => job('g-guild', `user-${i % 6}`));
    const { stored, refused } = await burst(svc, jobs);
    expect(stored).toBe(7);
    expect(new Set(refused)).toEqual(new Set(['admin:errors.quotaReached']));
    expect(await rowsOf('g-guild')).toBe(7);
  });

  it('the queue limit holds for buttons too, which the daily quotas let through', async () => {
    const svc = service({ USER_DAILY_QUOTA: 1, USER_MAX_QUEUED: 3 });
    expect((await burst(svc, [job('g-queue', 'carol')])).stored).toBe(1);
    // At the daily quota: a new /draw is refused, an upscale of a result is not (until the queue is full).
    expect((await burst(svc, [job('g-queue', 'carol')])).refused).toEqual(['queue:errors.userQuota']);
    const upscales = Array.from({ length: 10 }, () => job('g-queue', 'carol', { action: 'upscale:1', parentId: crypto.randomUUID() }));
    const { stored, refused } = await burst(svc, upscales);
    expect(stored).toBe(2); // 3 queued in all
    expect(new Set(refused)).toEqual(new Set(['queue:errors.queueFull']));
    // A /describe pick is a new /draw: under the daily quota although it comes from a button.
    const pick = await burst(svc, [job('g-queue', 'dave', { parentId: crypto.randomUUID() }), job('g-queue', 'dave', { parentId: crypto.randomUUID() })]);
    expect(pick).toEqual({ stored: 1, refused: ['queue:errors.userQuota'] });
  });

  it('failed and cancelled jobs give their place back; a per-member override replaces the default', async () => {
    const svc = service({ USER_DAILY_QUOTA: 2 });
    expect((await burst(svc, [job('g-free', 'erin'), job('g-free', 'erin'), job('g-free', 'erin')])).stored).toBe(2);
    await database.db.update(tasks).set({ status: 'failed' }).where(and(eq(tasks.guildId, 'g-free'), eq(tasks.userId, 'erin')));
    expect((await burst(svc, [job('g-free', 'erin'), job('g-free', 'erin'), job('g-free', 'erin')])).stored).toBe(2);
    await database.db.update(tasks).set({ status: 'cancelled' }).where(and(eq(tasks.guildId, 'g-free'), eq(tasks.userId, 'erin')));
    await admin.setUserDailyQuota('g-free', 4, 'mod');
    expect((await burst(svc, Array.from({ length: 9 }, () => job('g-free', 'erin')))).stored).toBe(4);
    await admin.setUserDailyQuota('g-free', 0, 'mod'); // unlimited
    expect((await burst(svc, Array.from({ length: 5 }, () => job('g-free', 'erin')))).stored).toBe(5);
  });

  it('stores the speed mode and wakes the engine once stored', async () => {
    const before = kicks;
    const task = await service({}).accept(job('g-mode', 'frank', { mode: 'relax' }));
    expect(task).toMatchObject({ mode: 'relax', status: 'queued', userId: 'frank', guildId: 'g-mode' });
    expect(kicks).toBe(before + 1);
  });

  it('jobs handed in together share one transaction (the engine is woken once), in the order they came', async () => {
    const svc = service({ USER_DAILY_QUOTA: 3 });
    const before = kicks;
    const jobs = Array.from({ length: 12 }, (_, i) => job('g-batch', `batch-${i % 2}`, { prompt: `batch ${i}` }));
    const { stored, refused } = await burst(svc, jobs);
    expect(kicks).toBe(before + 1);
    expect(stored).toBe(6);
    expect(new Set(refused)).toEqual(new Set(['queue:errors.userQuota']));
    // The first three of each user got in, and were written in the order they were handed in.
    const rows = await database.db.select({ prompt: tasks.prompt }).from(tasks).where(eq(tasks.guildId, 'g-batch')).orderBy(tasks.createdAt);
    expect(rows.map((r) => r.prompt)).toEqual(['batch 0', 'batch 1', 'batch 2', 'batch 3', 'batch 4', 'batch 5']);
  });

  it('memory loaded at start-up counts each video job with its weight, as the exact count does', async () => {
    // A restart must not forget that /animate and the video buttons weigh VIDEO_QUOTA_WEIGHT: memory that counted
    // them as 1 would let the early check pass, and the refusal would come after a public "thinking…".
    const svc = service({});
    await svc.accept(job('g-preload', 'gina'));
    await svc.accept(job('g-preload', 'gina', { action: 'animate', input: { images: [{ url: 'https://cdn.example/a.png', contentType: 'image/png' }], video: { motion: 'low' } } }));
    const memory = new UsageMemory();
    await memory.preload(database.db, 8);
    expect(memory.get({ guildId: 'g-preload', userId: 'gina' })).toMatchObject({ userToday: 9, guildToday: 9 });
    const exact = await countUsage(database.db, [{ guildId: 'g-preload', userId: 'gina' }], ['g-preload'], new Date(), 8);
    expect(exact.guildToday.get('g-preload')).toBe(9);
  });

  it('a batch is stored in one statement from memory while its counts hold, and decided again from exact counts when they moved', async () => {
    const a = service({ USER_DAILY_QUOTA: 3 });
    const b = service({ USER_DAILY_QUOTA: 3 }); // another instance: its memory knows nothing of a's jobs
    expect((await burst(a, [job('g-moved', 'hana')])).stored).toBe(1);
    expect(a.acceptor.batches).toEqual({ fromMemory: 1, exact: 0 });
    // b assumes hana has no job today: the database says 1, so b's batch is judged again, exactly.
    const fromB = await burst(b, [job('g-moved', 'hana'), job('g-moved', 'hana'), job('g-moved', 'hana')]);
    expect(fromB).toEqual({ stored: 2, refused: ['queue:errors.userQuota'] });
    expect(b.acceptor.batches).toEqual({ fromMemory: 0, exact: 1 });
    // a's memory still says 1 of 3: it would accept, but the count moved to 3, so the exact path refuses.
    expect((await burst(a, [job('g-moved', 'hana')])).refused).toEqual(['queue:errors.userQuota']);
    expect(a.acceptor.batches).toEqual({ fromMemory: 1, exact: 1 });
    expect(await rowsOf('g-moved', 'hana')).toBe(3);
  });

  it('a job stored from memory is the row as the database holds it', async () => {
    const svc = service({});
    const task = (await svc.accept(job('g-row', 'ivan', { input: { images: [{ url: 'https://cdn.example/i.png', contentType: 'image/png' }] }, mode: 'fast' }))) as Task;
    expect(svc.acceptor.batches.fromMemory).toBe(1);
    const [row] = await database.db.select().from(tasks).where(eq(tasks.id, task.id));
    expect(task).toEqual(row);
    expect(task.createdAt).toBeInstanceOf(Date);
    expect(task.tokenExpiresAt).toBeInstanceOf(Date);
  });

  it('several instances at once (each its own connections and batches) still store exactly the quota', async () => {
    const other = await testDb.open();
    try {
      await admin.setDailyQuota('g-multi', 9, 'mod');
      const instances = [service({ USER_DAILY_QUOTA: 4 }), service({ USER_DAILY_QUOTA: 4 }, other), service({ USER_DAILY_QUOTA: 4 }, other)];
      const jobs = Array.from({ length: 40 }, (_, i) => job('g-multi', `multi-${i % 4}`));
      const { stored, refused } = await burst(instances, jobs);
      expect(stored).toBe(9);
      expect(await rowsOf('g-multi')).toBe(9);
      for (let u = 0; u < 4; u++) expect(await rowsOf('g-multi', `multi-${u}`)).toBeLessThanOrEqual(4);
      expect(new Set(refused).size).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });
});
