// Issue 16, case 2 (fenced submission): a relay that takes every job at once but answers the submit only after
// UPSTREAM_TIMEOUT_MS. The bot gives up waiting, yet the relay has the job; submitting it again would start a
// second, billed job the user never sees. The bot must find the job it already started by the task id it sent
// (midjourney-proxy keeps it as `state`) instead: one job at the relay, one result for the user.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { finalsFor } from './lifecycle-support.ts';
import { failureOf, printLogsOnFailure, resultOf } from './queue-support.ts';
import { relayEnv, slashDraw } from './support.ts';

const KEY = 'mj-hang-secret';
let discord: FakeDiscord;
let mj: FakeMidjourneyProxy;
let db: TestDatabase;
let bot: BotProcess | undefined;

beforeAll(async () => {
  [discord, mj, db] = await Promise.all([FakeDiscord.start(), FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 200 }), createTestDatabase()]);
  bot = await startBot(relayEnv(discord, db, { provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY }, { POLL_INTERVAL_MS: '200', UPSTREAM_TIMEOUT_MS: '1000' }));
});
afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await mj?.close();
  await discord?.close();
});

printLogsOnFailure(() => [bot]);

describe('a relay that answers submissions only after UPSTREAM_TIMEOUT_MS', () => {
  it('ends up with exactly one job at the relay for the task, and the user gets exactly one result', async () => {
    const prompt = 'a cat behind a slow door';
    // Every submission is carried out at once and answered 2.5 s later (the bot waits 1 s).
    mj.delaySubmits(2_500);
    const draw = await slashDraw(discord, prompt);
    const final = await draw.waitForMessage((m) => resultOf(prompt)(m) || failureOf(prompt)(m), 45_000);
    const jobs = mj.tasksFor(prompt);
    expect(mj.lateAnswers).toBeGreaterThan(0);
    // One task of ours, one relay job: counted by the `state` (our task id) the bot sent with each submission.
    expect(new Set(jobs.map((j) => j.state)).size, `states sent: ${JSON.stringify(jobs.map((j) => j.state))}`).toBe(1);
    expect(jobs.map((j) => j.id), 'relay jobs started for this one task').toHaveLength(1);
    expect(final.content).not.toMatch(/^❌/);
    const { uploads, failures } = finalsFor(discord, prompt);
    expect(uploads).toHaveLength(1);
    expect(failures).toEqual([]);
    discord.assertNoViolations();
  }, 60_000);
});
