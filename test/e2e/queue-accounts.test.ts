// Several relay accounts (UPSTREAM_ACCOUNTS), three TTApi servers: one refuses the key (401), one answers
// 503 to everything (a 5xx streak), one works. The failing accounts are paused — the log names each — and
// every job moves to the working one: all of them end with their result, each accepted by a relay once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { FakeTtApi } from '../support/fake-ttapi.ts';
import { ALICE, BOB, CAROL, DAVE, printLogsOnFailure, queueEnv, resultUploads, timesSubmitted, waitForResults } from './queue-support.ts';
import { slashDraw } from './support.ts';

let discord: FakeDiscord;
let revoked: FakeTtApi;
let broken: FakeTtApi;
let working: FakeTtApi;
let db: TestDatabase;
let bot: BotProcess;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  [revoked, broken, working] = await Promise.all([FakeTtApi.start({ stepMs: 150 }), FakeTtApi.start({ stepMs: 150 }), FakeTtApi.start({ stepMs: 150 })]);
  broken.server.inject(() => true, { status: 503, body: { status: 'FAILED', message: 'Service Unavailable', data: null } }, 1_000);
  db = await createTestDatabase();
  bot = await startBot(
    queueEnv(discord, db, [
      { id: 'tt-revoked', relay: revoked, apiKey: 'a-key-that-was-revoked', concurrency: 2 },
      { id: 'tt-broken', relay: broken, concurrency: 2 },
      { id: 'tt-working', relay: working, concurrency: 2 },
    ]),
  );
});
afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  for (const relay of [revoked, broken, working]) await relay?.close();
  await discord?.close();
});

printLogsOnFailure(() => [bot]);

describe('an account that refuses its key and one that keeps failing', () => {
  it('are paused, and their jobs move to the working account', async () => {
    const prompts = ['moved job 1', 'moved job 2', 'moved job 3', 'moved job 4', 'moved job 5', 'moved job 6'];
    const users = [ALICE, BOB, CAROL, DAVE];
    await Promise.all(prompts.map((p, i) => slashDraw(discord, p, users[i % users.length])));
    await waitForResults(discord, prompts, 45_000);

    for (const p of prompts) {
      expect(timesSubmitted([working], p), p).toBe(1);
      expect(resultUploads(discord, p), p).toHaveLength(1);
    }
    // The failing accounts were tried, and accepted nothing.
    expect(revoked.requests.length).toBeGreaterThan(0);
    expect(broken.requests.length).toBeGreaterThan(0);
    expect(revoked.submissions).toEqual([]);
    expect(broken.submissions).toEqual([]);
    for (const id of ['tt-revoked', 'tt-broken']) {
      await bot.waitForLog((l) => l.msg === 'upstream account paused' && JSON.stringify(l).includes(id), 5_000);
    }
    // The key itself never reaches the log.
    expect(bot.logs.some((l) => JSON.stringify(l).includes('a-key-that-was-revoked'))).toBe(false);
    discord.assertNoViolations();
  }, 60_000);
});
