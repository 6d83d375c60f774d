// Issue 16, case 1: a relay that keeps a job in its own queue (relax mode; midjourney-proxy NOT_START, then
// SUBMITTED at 0%) for twice JOB_TIMEOUT_MINUTES is alive all along: the job is not failed as stalled, and its
// result is delivered once it is drawn. JOB_MAX_MINUTES counts from when the relay started drawing, so a queue
// longer than JOB_MAX_MINUTES does not make the job "too long" either.
//
// JOB_TIMEOUT_MINUTES is 0.1 (6 s) here. LIFECYCLE_TIMEOUT_MINUTES=1 replays the same case at full scale (a
// 2.4-minute queue) on a bot that only takes whole minutes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { failureMessages, finalsFor } from './lifecycle-support.ts';
import { printLogsOnFailure, resultOf } from './queue-support.ts';
import { relayEnv, slashDraw } from './support.ts';

const TIMEOUT_MINUTES = Number(process.env.LIFECYCLE_TIMEOUT_MINUTES ?? '0.1');
const TIMEOUT_MS = TIMEOUT_MINUTES * 60_000;
/** In the relay's queue for 2.4 × JOB_TIMEOUT_MINUTES in all, at 0% throughout. */
const NOT_START_MS = TIMEOUT_MS;
const SUBMITTED_MS = 1.4 * TIMEOUT_MS;
const KEY = 'mj-relax-secret';

let discord: FakeDiscord;
let mj: FakeMidjourneyProxy;
let db: TestDatabase;
let bot: BotProcess | undefined;

beforeAll(async () => {
  [discord, mj, db] = await Promise.all([FakeDiscord.start(), FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 200 }), createTestDatabase()]);
  bot = await startBot(
    relayEnv(discord, db, { provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY }, {
      POLL_INTERVAL_MS: '200',
      JOB_TIMEOUT_MINUTES: String(TIMEOUT_MINUTES),
      // Shorter than the queue, longer than the drawing (about a second).
      JOB_MAX_MINUTES: String(2 * TIMEOUT_MINUTES),
    }),
  );
});
afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await mj?.close();
  await discord?.close();
});

printLogsOnFailure(() => [bot]);

describe('a job waiting in the relay’s own queue (relax mode)', () => {
  it('is alive while the relay shows it queued at 0%, and its result is delivered once, with no failure', async () => {
    const prompt = 'a cat waiting its turn in relax mode';
    mj.queuePrompt('relax mode', { notStartMs: NOT_START_MS, submittedMs: SUBMITTED_MS });
    const started = Date.now();
    const draw = await slashDraw(discord, prompt);
    // Whatever comes first, result or failure: a failure here is the bug.
    const final = await draw.waitForMessage((m) => resultOf(prompt)(m) || m.content.startsWith('❌'), NOT_START_MS + SUBMITTED_MS + 45_000);
    expect(final.content, 'the job was failed while the relay still had it queued').not.toMatch(/^❌/);
    // It really sat in the relay's queue for more than twice JOB_TIMEOUT_MINUTES before it was drawn.
    const [task] = mj.tasksFor(prompt);
    expect(task!.startTime! - started).toBeGreaterThanOrEqual(2 * TIMEOUT_MS);
    expect(mj.tasksFor(prompt)).toHaveLength(1);
    const { uploads, failures } = finalsFor(discord, prompt);
    expect(uploads).toHaveLength(1);
    expect(failures).toEqual([]);
    expect(failureMessages(discord, prompt)).toEqual([]);
    discord.assertNoViolations();
  }, 2.4 * TIMEOUT_MS + 90_000);
});
