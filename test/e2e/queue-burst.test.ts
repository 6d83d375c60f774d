// A burst of /draws against a slow relay account (each job takes 1.5 s there): the real bot never has more jobs
// at the relay than the account's concurrency, hands them over in the order they arrived, and ends every one
// with its result. With USER_MAX_CONCURRENT=1, one user's pile of jobs does not hold up another user's.
import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tasks } from '../../src/db/schema.ts';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { FakeTtApi } from '../support/fake-ttapi.ts';
import { ALICE, BOB, CAROL, DAVE, acceptedPrompts, printLogsOnFailure, queueEnv, resultUploads, timesSubmitted, waitForResults } from './queue-support.ts';
import { slashDraw } from './support.ts';

/** The relay's time per progress step: a job is queued there for one step and runs for four more (1.5 s). */
const STEP_MS = 300;

interface Session {
  discord: FakeDiscord;
  relay: FakeTtApi;
  db: TestDatabase;
  bot: BotProcess;
}

/** A fake Discord, a slow TTApi account of concurrency 3 and a bot on a fresh database, for one describe block. */
function useSession(extra: Record<string, string>): () => Session {
  let s: Session | undefined;
  beforeAll(async () => {
    const discord = await FakeDiscord.start();
    const relay = await FakeTtApi.start({ stepMs: STEP_MS });
    const db = await createTestDatabase();
    const bot = await startBot(queueEnv(discord, db, [{ relay, concurrency: 3 }], extra));
    s = { discord, relay, db, bot };
  });
  afterAll(async () => {
    await s?.bot.stop();
    await s?.db.destroy();
    await s?.relay.close();
    await s?.discord.close();
  });
  printLogsOnFailure(() => [s?.bot]);
  return () => s!;
}

/** Prompts in the order the bot stored the jobs (its arrival order), read once the bot has stopped. */
async function storedOrder(db: TestDatabase): Promise<string[]> {
  const database = await db.open();
  try {
    const rows = await database.db.select({ prompt: tasks.prompt }).from(tasks).orderBy(asc(tasks.createdAt), asc(tasks.id));
    return rows.map((r) => r.prompt);
  } finally {
    await database.close();
  }
}

describe('a burst of 12 /draws from 4 users on an account of concurrency 3', () => {
  const session = useSession({ USER_MAX_CONCURRENT: '12' });

  it('never has more than 3 jobs at the relay, submits them in arrival order, and delivers every result once', async () => {
    const { discord, relay, db, bot } = session();
    const users = [ALICE, BOB, CAROL, DAVE];
    const prompts = Array.from({ length: 12 }, (_, i) => `burst job ${String(i + 1).padStart(2, '0')}`);
    // All at once, as a busy server sends them.
    await Promise.all(prompts.map((p, i) => slashDraw(discord, p, users[i % users.length])));
    await waitForResults(discord, prompts, 40_000);

    // The account's limit held and was used: three at a time, never four.
    expect(relay.maxInFlight).toBe(3);
    for (const p of prompts) {
      expect(timesSubmitted([relay], p), p).toBe(1);
      expect(resultUploads(discord, p), p).toHaveLength(1);
    }
    discord.assertNoViolations();

    // Arrival order is the order the bot stored the jobs in (interactions sent together may be stored in any order).
    await bot.stop();
    expect(acceptedPrompts(relay)).toEqual(await storedOrder(db));
  }, 60_000);
});

describe('fairness with USER_MAX_CONCURRENT=1', () => {
  const session = useSession({ USER_MAX_CONCURRENT: '1' });

  it("starts another user's job before the second of one user's four", async () => {
    const { discord, relay, db, bot } = session();
    const alice = ['alice job 1', 'alice job 2', 'alice job 3', 'alice job 4'];
    // Alice's first job takes a while at the relay, so Bob's /draw is surely stored while it runs (under load
    // a 1.5 s job could finish before Bob's /draw is, and then Alice's second would rightly go first).
    relay.slowNextJob(6_000);
    for (const p of alice) await (await slashDraw(discord, p, ALICE)).waitForCallback();
    // Bob asks once Alice's first job is at the relay and the other three wait behind it.
    await expect.poll(() => acceptedPrompts(relay), { timeout: 10_000 }).toContain('alice job 1');
    await slashDraw(discord, 'bob job', BOB);
    await waitForResults(discord, [...alice, 'bob job'], 40_000);

    const order = acceptedPrompts(relay);
    expect(order.indexOf('bob job')).toBeLessThan(order.indexOf('alice job 2'));
    expect(order.filter((p) => p.startsWith('alice'))).toEqual(alice);
    // One of Alice's jobs at the relay at a time: each starts once the one before it has finished there.
    const mine = relay.submissions.filter((s) => s.prompt.startsWith('alice'));
    for (let i = 1; i < mine.length; i++) expect(mine[i]!.at).toBeGreaterThanOrEqual(mine[i - 1]!.finishesAt);
    for (const p of [...alice, 'bob job']) expect(resultUploads(discord, p), p).toHaveLength(1);
    discord.assertNoViolations();
    // The jobs were stored in the order sent: Bob's really came last.
    await bot.stop();
    expect(await storedOrder(db)).toEqual([...alice, 'bob job']);
  }, 60_000);
});
