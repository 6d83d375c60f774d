// Issue 16, case 3: Discord answers 503 to every message write (interaction webhook PATCH/POST, channel
// messages) for over two minutes while eight results become ready. Delivery is an outbox retried with backoff
// (1 s doubling to 30 s), so when Discord recovers every result arrives, exactly once, and nobody is told their
// job failed. Takes about three minutes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord, type FakeInteraction } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { accountsEnv, finalsFor, sleep, until } from './lifecycle-support.ts';
import { CAROL, DAVE, ERIN, printLogsOnFailure } from './queue-support.ts';
import { ALICE, BOB } from './support.ts';

const KEY = 'mj-outage-secret';
const OUTAGE_MS = 125_000;
const USERS = [ALICE, BOB, CAROL, DAVE, ERIN, '100000000000000006', '100000000000000007', '100000000000000008'];

let discord: FakeDiscord;
let mj: FakeMidjourneyProxy;
let db: TestDatabase;
let bot: BotProcess | undefined;

beforeAll(async () => {
  [discord, mj, db] = await Promise.all([FakeDiscord.start(), FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 200, queueAfter: 20 }), createTestDatabase()]);
  bot = await startBot(accountsEnv(discord, db, [{ id: 'mj', provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, concurrency: 10 }]));
});
afterAll(async () => {
  discord?.endOutage();
  await bot?.stop();
  await db?.destroy();
  await mj?.close();
  await discord?.close();
});

printLogsOnFailure(() => [bot]);

describe('Discord failing every message write for over two minutes', () => {
  it('delivers every result that became ready meanwhile, exactly once, after Discord recovers', async () => {
    const prompts = USERS.map((_, i) => `outage cat number ${i + 1}`);
    mj.holdPrompt('outage cat');
    const draws: FakeInteraction[] = [];
    for (const [i, prompt] of prompts.entries()) draws.push(await discord.slashCommand({ name: 'draw', options: { prompt }, userId: USERS[i], locale: 'en-US' }));
    for (const d of draws) await d.waitForCallback(5_000);
    // All eight drawing at the relay (held at their last step), before Discord goes down.
    await until(() => prompts.every((p) => mj.tasksFor(p).some((t) => t.progress === '91%')), 30_000, 'all eight jobs drawing at the relay');

    discord.startOutage({ scope: 'messages' });
    const outageStart = Date.now();
    mj.release();
    // The results are ready at the relay, and the bot has tried (and failed) to upload one of them.
    await until(() => prompts.every((p) => mj.tasksFor(p)[0]?.status === 'SUCCESS'), 20_000, 'the relay to finish all eight');
    await until(() => discord.calls.some((c) => c.fault === 'outage' && c.files.some((f) => /^(grid|image)_/.test(f.filename))), 30_000, 'an upload attempt during the outage');
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStart)));
    expect(prompts.flatMap((p) => finalsFor(discord, p).uploads), 'nothing can have been shown during the outage').toEqual([]);
    discord.endOutage();

    // Backoff is capped at 30 s (±20%): every result is due within about 36 s of the recovery.
    const ended = (p: string) => finalsFor(discord, p).uploads.length + finalsFor(discord, p).failures.length > 0;
    await until(() => prompts.every(ended), 60_000, 'every job to end').catch(() => undefined);
    expect(prompts.filter((p) => !ended(p)), `jobs with nothing shown 60 s after Discord recovered (of ${prompts.length})`).toEqual([]);
    for (const p of prompts) {
      const { uploads, failures } = finalsFor(discord, p);
      expect(failures.map((f) => f.content), p).toEqual([]);
      expect(uploads, p).toHaveLength(1);
    }
    expect(discord.calls.filter((c) => c.fault === 'outage').length).toBeGreaterThan(0);
    discord.assertNoViolations();
  }, 240_000);
});
