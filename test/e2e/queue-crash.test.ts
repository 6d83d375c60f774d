// Crash safety with a real SIGKILL: the bot dies with two jobs at the relay and four in its queue; a new bot
// process on the same database, Discord and relay finishes all of them — each job submitted to the relay once and
// its result shown once. A job whose interaction token expired meanwhile is posted to its channel, pinging its
// user; when the bot may not post in that channel either, the user is told in a direct message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { BOT_PERMISSIONS, FakeDiscord, Permission, type FakeInteraction, type SeenMessage } from '../support/fake-discord.ts';
import { FakeTtApi } from '../support/fake-ttapi.ts';
import { ALICE, BOB, CAROL, DAVE, printLogsOnFailure, queueEnv, resultOf, resultUploads, timesSubmitted, waitForResults } from './queue-support.ts';
import { slashDraw } from './support.ts';

/** 4 s per job at the relay: the kill surely finds the first two still running there. */
const STEP_MS = 800;
const LOADING = 128;

let discord: FakeDiscord;
let relay: FakeTtApi;
let db: TestDatabase;
const bots: BotProcess[] = [];

beforeAll(async () => {
  discord = await FakeDiscord.start();
  relay = await FakeTtApi.start({ stepMs: STEP_MS });
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const bot of bots) await bot.stop();
  await db?.destroy();
  await relay?.close();
  await discord?.close();
});

/** The job is stored: its "thinking…" reply became the waiting message (with its place in the queue). */
const stored = (i: FakeInteraction) => i.waitForMessage((m: SeenMessage) => (m.flags & LOADING) === 0, 10_000);

printLogsOnFailure(() => bots);

describe('kill -9 with jobs running and queued, then a new bot on the same database', () => {
  it('submits every job once and delivers every result once; expired tokens go to the channel, refused channels to a DM', async () => {
    // A second server whose channel will refuse the bot's messages.
    const quiet = discord.addGuild({ name: 'Quiet Server' });
    const env = queueEnv(discord, db, [{ relay, concurrency: 2 }]);
    const first = await startBot(env);
    bots.push(first);

    const expiring = 'crash job 1 token expires';
    const refused = 'crash job 2 channel refused';
    const queued = ['crash job 3', 'crash job 4', 'crash job 5', 'crash job 6'];
    const j1 = await slashDraw(discord, expiring, ALICE);
    const j2 = await discord.slashCommand({ name: 'draw', options: { prompt: refused }, userId: BOB, locale: 'en-US', guildId: quiet.guildId });
    // Both at the relay, and the bot knows their relay job ids.
    for (const p of [expiring, refused]) await first.waitForLog((l) => l.msg === 'task submitted' && l.prompt === p, 10_000);
    const rest = [];
    for (const [i, p] of queued.entries()) rest.push(await slashDraw(discord, p, [CAROL, DAVE, ALICE, BOB][i]));
    await Promise.all([j1, j2, ...rest].map(stored));
    expect(relay.submissions.map((s) => s.prompt).sort()).toEqual([expiring, refused].sort());

    // While the bot is down the first two tokens pass their 15 minutes, and the quiet channel stops letting it post.
    j1.expireToken();
    j2.expireToken();
    discord.setBotPermissions(quiet.channelId, BigInt(BOT_PERMISSIONS) & ~Permission.SendMessages);
    // Nothing was delivered yet: whatever is shown from here on, the second bot showed.
    expect([expiring, refused, ...queued].flatMap((p) => resultUploads(discord, p))).toEqual([]);
    await first.kill();
    expect(first.child.signalCode).toBe('SIGKILL');

    const second = await startBot(env);
    bots.push(second);
    await waitForResults(discord, [expiring, ...queued], 40_000);
    await expect.poll(() => discord.directMessages(BOB).length, { timeout: 20_000 }).toBeGreaterThan(0);

    for (const p of [expiring, refused, ...queued]) expect(timesSubmitted([relay], p), p).toBe(1);
    expect(relay.maxInFlight).toBeLessThanOrEqual(2);

    for (const p of queued) {
      const uploads = resultUploads(discord, p);
      expect(uploads, p).toHaveLength(1);
      expect(uploads[0]!.via, p).toBe('interaction');
    }

    // The expired job: a new message in its channel that pings its user.
    const [late] = resultUploads(discord, expiring);
    expect(resultUploads(discord, expiring)).toHaveLength(1);
    expect(late!.via).toBe('channel');
    expect(late!.message.channel_id).toBe(discord.channelId);
    expect(late!.message.content).toContain(`<@${ALICE}>`);
    const post = discord.calls.find((c) => c.method === 'POST' && c.route === '/channels/:channelId/messages' && c.status === 200 && JSON.stringify(c.body).includes(expiring));
    expect((post!.body as { allowed_mentions?: { users?: string[] } }).allowed_mentions?.users).toContain(ALICE);

    // The refused channel: nothing could be posted there; Bob hears about it privately, told which job and where.
    expect(discord.messageEvents.some((e) => e.message.channel_id === quiet.channelId && resultOf(refused)(e.message))).toBe(false);
    const dm = discord.directMessages(BOB).map((m) => m.content).join('\n');
    expect(dm).toContain(refused);
    expect(dm).toContain(`<#${quiet.channelId}>`);
    expect(resultUploads(discord, refused).length).toBeLessThanOrEqual(1);

    discord.assertNoViolations();
  }, 60_000);
});
