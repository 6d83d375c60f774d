// Issue 16, the chaos test: every accepted job ends in exactly one final message, whatever happens around it.
// Two bot instances (shards 0 and 1 of 2) on one private PostgreSQL; each is SIGKILLed once and restarted; the
// PostgreSQL server is restarted once; 10 % of relay requests fail with 503 (a fault proxy in front of the
// midjourney-proxy fake); 10 % of Discord message writes are answered 429 with Retry-After; Discord answers 503 to
// everything for 30 s. 110 /draw from 40 users over two guilds, plus U1 clicks on delivered grids. Then: every job
// Discord saw deferred has exactly one final message (result or ❌), no result is uploaded twice, and no task was
// submitted to the relay twice (relay jobs counted by `state`, the task id the bot sends). A /draw that an
// instance acknowledged in the second before it was killed, and never stored, is reported apart (the README's
// one named gap: acknowledging comes before storing, to answer within Discord's 3 s).
//
// The weather is seeded (CHAOS_SEED, default 16): a failing run can be replayed with the same draws.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { FakeDiscord, guildIdOnShard, type FakeInteraction, type SeenMessage } from '../support/fake-discord.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { startPrivatePostgres } from '../support/private-postgres.ts';
import { accepted, accountsEnv, finalsOfInteraction, sleep, until } from './lifecycle-support.ts';
import { printLogsOnFailure } from './queue-support.ts';

const SEED = Number(process.env.CHAOS_SEED ?? '16');
const KEY = 'mj-chaos-secret';
const JOBS = 110;
const USERS = 40;
const CLICKS = 12;
/** One /draw every 200 ms: the last at about 22 s. */
const SEND_EVERY_MS = 200;
/** Right after the last /draw: the account (concurrency 8) has a backlog, whose results fall in the outage. */
const OUTAGE_AT_MS = 24_000;
const OUTAGE_MS = 30_000;

const userId = (i: number) => `1000000000000002${String(i % USERS).padStart(2, '0')}`;

let pg: Awaited<ReturnType<typeof startPrivatePostgres>> | undefined;
let discord: FakeDiscord;
let mj: FakeMidjourneyProxy;
let front: FaultProxy;
let env: Record<string, string>;
let guilds: Array<{ guildId: string }>;
const bots: Array<BotProcess | undefined> = [undefined, undefined];
const everyBot: BotProcess[] = [];
const dirs: string[] = [];

async function startInstance(shard: number): Promise<BotProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `mjbot-chaos${shard}-`));
  dirs.push(dir);
  const bot = await startBot({ ...env, SHARD_IDS: String(shard), DATA_DIR: dir });
  everyBot.push(bot);
  bots[shard] = bot;
  return bot;
}

beforeAll(async () => {
  pg = await startPrivatePostgres();
  discord = await FakeDiscord.start({ shards: 2 });
  const other = discord.addGuild({ id: guildIdOnShard(1, 2), name: 'Shard One Server' });
  guilds = [{ guildId: discord.guildId }, other];
  mj = await FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 400, queueAfter: 1_000 });
  front = await FaultProxy.start(mj.url, { errorRate: 0.1, seed: SEED });
  env = accountsEnv(discord, { env: { DATABASE_URL: pg.url } }, [{ id: 'mj', provider: 'midjourney-proxy', baseUrl: front.url, apiKey: KEY, concurrency: 8 }], {
    SHARD_COUNT: '2',
    POLL_INTERVAL_MS: '300',
    USER_MAX_CONCURRENT: '3',
    USER_MAX_QUEUED: '20',
  });
  // One after the other: the first migrates the empty database (concurrent first starts are queue-instances' test).
  await startInstance(0);
  await startInstance(1);
}, 90_000);

afterAll(async () => {
  discord?.endOutage();
  for (const bot of everyBot) await bot.stop();
  // CHAOS_LOG_DIR=/some/dir keeps every instance's whole log, to replay a failure (with CHAOS_SEED).
  if (process.env.CHAOS_LOG_DIR) {
    for (const [i, bot] of everyBot.entries()) await writeFile(path.join(process.env.CHAOS_LOG_DIR, `chaos-bot-${i}.log`), bot.logs.map((l) => JSON.stringify(l)).join('\n'));
  }
  await front?.close();
  await mj?.close();
  await discord?.close();
  await pg?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

printLogsOnFailure(() => bots, 30);

const hasU1 = (m: SeenMessage) => (m.components as Array<{ components: Array<{ label?: string; custom_id?: string }> }>).some((row) => row.components.some((b) => b.label === 'U1' && b.custom_id));
const u1Of = (m: SeenMessage) => (m.components as Array<{ components: Array<{ label?: string; custom_id?: string }> }>).flatMap((row) => row.components).find((b) => b.label === 'U1')!.custom_id!;

describe('chaos: two instances, crashes, a database restart, relay 5xx, Discord 429s and an outage', () => {
  it('gives every accepted job exactly one final message, uploads no result twice, and submits no job twice', async () => {
    discord.setRateLimit({ rate: 0.1, seed: SEED, retryAfter: 1, scope: 'messages' });
    const up = [true, true];
    const jobs: Array<{ label: string; interaction: FakeInteraction; shard: number }> = [];
    const kills: Array<{ shard: number; at: number }> = [];
    const t0 = Date.now();
    const at = (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));
    const crash = async (shard: number, atMs: number) => {
      await at(atMs);
      up[shard] = false;
      kills.push({ shard, at: Date.now() });
      await bots[shard]!.kill();
      await startInstance(shard);
      up[shard] = true;
    };

    const sender = (async () => {
      for (let i = 0; i < JOBS; i++) {
        await at(i * SEND_EVERY_MS);
        // A guild whose shard's instance is down would get no answer at all (not a job): use the other one.
        const shard = up[i % 2] ? i % 2 : 1 - (i % 2);
        const prompt = `chaos job ${i + 1}`;
        jobs.push({ label: prompt, shard, interaction: await discord.slashCommand({ name: 'draw', options: { prompt }, userId: userId(i), locale: 'en-US', guildId: guilds[shard]!.guildId }) });
      }
    })();
    const clicker = (async () => {
      await at(12_000);
      const clicked = new Set<string>();
      for (let n = 0; n < CLICKS && Date.now() - t0 < OUTAGE_AT_MS - 2_000; ) {
        const grid = [...discord.messageEvents].reverse().map((e) => discord.message(e.messageId)).find((m) => m && !clicked.has(m.id) && hasU1(m));
        const shard = grid ? guilds.findIndex((g) => g.guildId === grid.guild_id) : -1;
        if (!grid || !up[shard]) {
          await sleep(300);
          continue;
        }
        clicked.add(grid.id);
        jobs.push({ label: `U1 of ${grid.content.slice(0, 40)}`, shard, interaction: await discord.clickButton({ message: grid.id, customId: u1Of(grid), userId: userId(n + 7) }) });
        n++;
        await sleep(500);
      }
    })();
    const weather = (async () => {
      await crash(0, 4_000);
      await at(8_000);
      await pg!.restart();
      // Not while jobs still wait in memory for the database to come back (a deferred /draw is stored once it
      // answers; a crash before that, while the database is down too, loses it: the one double fault not covered).
      const restarted = Date.now() - t0;
      await crash(1, Math.max(11_000, restarted + 5_000));
      // After both restarts are done (a bot cannot start while Discord is down), however long they took.
      await at(OUTAGE_AT_MS);
      discord.startOutage({ scope: 'all' });
      await at(OUTAGE_AT_MS + OUTAGE_MS);
      discord.endOutage();
    })();
    await Promise.all([sender, clicker, weather]);

    const taken = jobs.filter((j) => accepted(j.interaction));
    const finals = (j: (typeof jobs)[number]) => {
      const f = finalsOfInteraction(discord, j.interaction);
      return f.uploads.length + f.failures.length;
    };
    // The one gap the README names: a /draw acknowledged ("thinking…") by an instance SIGKILLed in the moment
    // before it stored the job. Counted apart only when the instance was killed within a second of
    // acknowledging it and no instance ever logged the job as accepted; anything else unanswered is lost.
    const stored = () => new Set(everyBot.flatMap((b) => b.logs.filter((l) => l.msg === 'task accepted').map((l) => String(l.prompt))));
    const inKillWindow = (j: (typeof jobs)[number]) => {
      const ackAt = j.interaction.callbacks[0]?.at ?? 0;
      return !stored().has(j.label) && kills.some((k) => k.shard === j.shard && k.at >= ackAt && k.at - ackAt < 1_000);
    };
    // After the outage: results due within the 30 s backoff cap; give the slowest a little more.
    await until(() => taken.every((j) => finals(j) > 0 || inKillWindow(j)), 75_000, () => `a final message for every accepted job; still waiting: ${taken.filter((j) => finals(j) === 0 && !inKillWindow(j)).map((j) => j.label).join(', ')}`).catch((err: unknown) => console.log(String(err)));
    // Let both instances finish what they are sending (SIGTERM drains), then count.
    for (const bot of bots) await bot?.stop();

    const unanswered = taken.filter((j) => finals(j) === 0);
    const killedBeforeStored = unanswered.filter(inKillWindow).map((j) => j.label);
    const lost = unanswered.filter((j) => !inKillWindow(j)).map((j) => j.label);
    const doubled = taken.filter((j) => finals(j) > 1).map((j) => `${j.label} (${JSON.stringify(finalsOfInteraction(discord, j.interaction))})`);
    const doubleUploads = taken.filter((j) => finalsOfInteraction(discord, j.interaction).uploads.length > 1).map((j) => j.label);
    const byState = new Map<string, number>();
    for (const t of mj.created) byState.set(String(t.state), (byState.get(String(t.state)) ?? 0) + 1);
    const submittedTwice = [...byState].filter(([, n]) => n > 1).map(([state, n]) => `${state} ×${n}`);

    const weatherReport = {
      killedBeforeStored,
      accepted: taken.length,
      sent: jobs.length,
      relay5xx: front.log.filter((r) => r.injected).length,
      discord429: discord.calls.filter((c) => c.fault === 'rateLimit').length,
      discordOutage: discord.calls.filter((c) => c.fault === 'outage').length,
      relayJobs: mj.created.length,
    };
    console.log('chaos weather', JSON.stringify(weatherReport));
    // The outcome first, then whether the weather really happened (so a failure shows both).
    expect({ lost, doubled, doubleUploads, submittedTwice }).toEqual({ lost: [], doubled: [], doubleUploads: [], submittedTwice: [] });
    expect({
      relay5xx: weatherReport.relay5xx > 0,
      discord429: weatherReport.discord429 > 0,
      writesInTheOutage: weatherReport.discordOutage > 0,
      killed: everyBot.filter((b) => b.child.signalCode === 'SIGKILL').length,
      atLeast100Accepted: taken.length >= 100,
    }).toEqual({ relay5xx: true, discord429: true, writesInTheOutage: true, killed: 2, atLeast100Accepted: true });
  }, 240_000);
});
