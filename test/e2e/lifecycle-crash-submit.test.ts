// Issue 16, case 2 (third way): the bot crashes (SIGKILL) after the relay accepted a job but before the bot heard
// back and recorded it. The restarted bot must not submit the job again: it asks the relay for the job by the task
// id it sent (midjourney-proxy keeps it as `state`; see the lookup notes in fake-midjourney-proxy.ts) and follows
// that one. One relay job for the task, one result for the user.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { accountsEnv, finalsFor, until } from './lifecycle-support.ts';
import { failureOf, printLogsOnFailure, resultOf } from './queue-support.ts';
import { slashDraw } from './support.ts';

const KEY = 'mj-crash-secret';
let discord: FakeDiscord;
let mj: FakeMidjourneyProxy;
let db: TestDatabase;
const bots: BotProcess[] = [];

beforeAll(async () => {
  [discord, mj, db] = await Promise.all([FakeDiscord.start(), FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 300 }), createTestDatabase()]);
});
afterAll(async () => {
  for (const bot of bots) await bot.stop();
  await db?.destroy();
  await mj?.close();
  await discord?.close();
});

printLogsOnFailure(() => bots);

describe('a crash between the relay accepting a job and the bot recording it', () => {
  it('leaves exactly one relay job for the task, and the user gets exactly one result', async () => {
    const env = accountsEnv(discord, db, [{ id: 'mj', provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, concurrency: 5 }]);
    const first = await startBot(env);
    bots.push(first);
    const prompt = 'a cat caught between accept and record';
    // The first submission is carried out at once and answered 6 s later; the bot dies in between.
    mj.delaySubmits(6_000, 1);
    const draw = await slashDraw(discord, prompt);
    await until(() => mj.tasksFor(prompt).length === 1, 15_000, 'the relay to accept the job');
    await first.kill();
    expect(first.child.signalCode).toBe('SIGKILL');
    // The relay knows the job by the task id the bot sent; the bot never heard its relay id.
    const [job] = mj.tasksFor(prompt);
    expect(job!.state, 'the bot sends its task id as state').toMatch(/^[0-9a-f-]{36}$/);

    const second = await startBot(env);
    bots.push(second);
    const final = await draw.waitForMessage((m) => resultOf(prompt)(m) || failureOf(prompt)(m), 60_000);
    const jobs = mj.tasksFor(prompt);
    expect(jobs.map((j) => j.state), 'relay jobs for this task (by state)').toEqual([job!.state]);
    expect(final.content).not.toMatch(/^❌/);
    const { uploads, failures } = finalsFor(discord, prompt);
    expect(uploads).toHaveLength(1);
    expect(failures).toEqual([]);
    discord.assertNoViolations();
  }, 120_000);
});
