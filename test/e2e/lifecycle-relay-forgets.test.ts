// Issue 16, case 4: a relay that forgets jobs (restarted with an in-memory store, purged). A job it forgets while
// drawing can never finish: the bot notices within a few polls (not after JOB_TIMEOUT_MINUTES) and tells the user
// once, with a clear ❌. A job whose result the bot already stored does not need the relay any more: it is
// delivered even though the relay forgot it while Discord was failing the upload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord, type FakeInteraction } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { accountsEnv, finalsFor, sleep, until } from './lifecycle-support.ts';
import { failureOf, printLogsOnFailure, resultOf } from './queue-support.ts';
import { BOB, slashDraw } from './support.ts';

const KEY = 'mj-forget-secret';
const LOST = 'a drawing cat the relay forgot';
const STORED = 'a finished cat the relay forgot';
/** The English text of the stalled-job failure (admin:errors.jobStalled): not what a lost job should say. */
const STALLED_TEXT = 'made no progress for too long';

let discord: FakeDiscord;
let mj: FakeMidjourneyProxy;
let db: TestDatabase;
let bot: BotProcess | undefined;

beforeAll(async () => {
  [discord, mj, db] = await Promise.all([FakeDiscord.start(), FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 200 }), createTestDatabase()]);
  bot = await startBot(accountsEnv(discord, db, [{ id: 'mj', provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, concurrency: 5 }], { JOB_TIMEOUT_MINUTES: '5' }));
});
afterAll(async () => {
  discord?.endOutage();
  await bot?.stop();
  await db?.destroy();
  await mj?.close();
  await discord?.close();
});

printLogsOnFailure(() => [bot]);

/** The job's one relay task, once it is drawing (held at its last step). */
async function drawing(prompt: string) {
  await until(() => mj.tasksFor(prompt)[0]?.progress === '91%', 20_000, `"${prompt}" drawing at the relay`);
  return mj.tasksFor(prompt)[0]!;
}

describe('a relay that forgets a job', () => {
  let lost: FakeInteraction;

  it('while drawing: the job fails promptly with a clear ❌, long before JOB_TIMEOUT_MINUTES (5)', async () => {
    mj.holdPrompt(LOST);
    lost = await slashDraw(discord, LOST);
    const task = await drawing(LOST);
    // The bot has followed it: the user sees its progress.
    await lost.waitForMessage((m) => /\(\d+%\)/.test(m.content), 20_000);
    mj.forget(task.id);
    const forgotAt = Date.now();
    const failure = await lost.waitForMessage((m) => resultOf(LOST)(m) || failureOf(LOST)(m), 60_000);
    expect(failure.content).toMatch(/^❌/);
    expect(failure.content, 'a lost job is not a stalled one').not.toContain(STALLED_TEXT);
    expect(Date.now() - forgotAt, 'noticed within a few polls, not at the stuck-job timeout').toBeLessThan(30_000);
    expect(finalsFor(discord, LOST).uploads).toEqual([]);
    expect(finalsFor(discord, LOST).failures).toHaveLength(1);
  }, 90_000);

  it('after its result was stored: the result is still delivered once Discord takes it', async () => {
    mj.holdPrompt(STORED);
    const draw = await slashDraw(discord, STORED, BOB);
    const task = await drawing(STORED);
    discord.startOutage({ scope: 'messages' });
    mj.release();
    // The bot has the result (it is trying to upload it), and Discord refuses it.
    await until(() => discord.calls.some((c) => c.fault === 'outage' && c.files.some((f) => /^grid_/.test(f.filename))), 30_000, 'an upload attempt of the result during the outage');
    mj.forget(task.id);
    // Long enough for many polls of the relay that no longer knows the job.
    await sleep(5_000);
    discord.endOutage();
    const final = await draw.waitForMessage((m) => resultOf(STORED)(m) || failureOf(STORED)(m), 60_000);
    expect(final.content, 'a stored result does not depend on the relay still knowing the job').not.toMatch(/^❌/);
    const { uploads, failures } = finalsFor(discord, STORED);
    expect(uploads).toHaveLength(1);
    expect(failures).toEqual([]);
  }, 120_000);

  it('the forgotten drawing job still has exactly one final message (no result, one failure)', () => {
    expect(lost).toBeDefined();
    const { uploads, failures } = finalsFor(discord, LOST);
    expect(uploads).toEqual([]);
    expect(failures).toHaveLength(1);
    discord.assertNoViolations();
  });
});
