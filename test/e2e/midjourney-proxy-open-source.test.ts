// midjourney-proxy end to end against the open-source (novicezk) flavour: no /mj/submit/action, no
// list-by-condition, no buttons[]. The adapter learns that from the first 404s and falls back to
// /mj/submit/change and per-task fetches; the user still draws, upscales, varies and rerolls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { BOB, GRID, buttonFaces, customIdOf, isFinalOrUploaded as isDone, relayEnv } from './support.ts';

const KEY = 'mj-e2e-secret';

let discord: FakeDiscord;
let mj: FakeMidjourneyProxy;
let db: TestDatabase;
let bot: BotProcess;

beforeAll(async () => {
  [discord, mj, db] = await Promise.all([FakeDiscord.start(), FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 100, openSource: true }), createTestDatabase()]);
  bot = await startBot(relayEnv(discord, db, { provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY }, { POLL_INTERVAL_MS: '100' }));
});

afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await mj?.close();
  await discord?.close();
});

const click = async (message: SeenMessage, face: string) =>
  (await discord.clickButton({ message, customId: customIdOf(message, face), userId: BOB })).waitForMessage(isDone, 20_000);

describe('midjourney-proxy, open-source server', () => {
  it('draws, upscales (nothing offered after), varies and rerolls through /mj/submit/change', async () => {
    const interaction = await discord.slashCommand({ name: 'draw', options: { prompt: 'a lighthouse' }, userId: '100000000000000001', locale: 'en-US' });
    const grid = await interaction.waitForMessage(isDone, 20_000);
    expect(buttonFaces(grid)).toEqual(GRID);

    const single = await click(grid, 'U3');
    expect(single.content).toBe('**a lighthouse** - Image #3 <@100000000000000002>');
    expect(single.components).toEqual([]);
    const varied = await click(grid, 'V2');
    expect(buttonFaces(varied)).toEqual(GRID);
    const rerolled = await click(varied, '🔄');
    expect(buttonFaces(rerolled)).toEqual(GRID);

    const changes = mj.requests.filter((r) => r.path === '/mj/submit/change').map((r) => r.body);
    expect(changes).toEqual([
      expect.objectContaining({ action: 'UPSCALE', index: 3 }),
      expect.objectContaining({ action: 'VARIATION', index: 2 }),
      expect.objectContaining({ action: 'REROLL' }),
    ]);
    // Batch fetch tried once, then one fetch per running task.
    expect(mj.requests.filter((r) => r.path === '/mj/task/list-by-condition')).toHaveLength(1);
    expect(mj.requests.filter((r) => r.path.endsWith('/fetch')).length).toBeGreaterThan(3);
    discord.assertNoViolations();
  });
});
