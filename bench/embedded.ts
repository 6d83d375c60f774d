// `npx tsx bench/embedded.ts [rounds]`: how fast the bot with only a token is ready on its embedded PostgreSQL,
// and what the two take in memory while idle. Each round, on a fresh DATA_DIR, against the fake Discord of the
// tests (in this process):
//   first start  — initdb, server start, migrations (the first `npm start` on a new machine);
//   next start   — the cluster exists, the server was stopped with the bot (SIGTERM);
//   after a kill — the bot was SIGKILLed, its server still runs and is reused;
// then, idle for 15 s after the next start: PSS and RSS of the bot's process and of every process of its server.
// "Ready" is the bot's `bot ready` log line, timed from the spawn of its process (node + scripts/start.mjs +
// the compiled src/main.ts, what `npm start` runs after npm itself); startupMs is the bot's own figure (from after the configuration is read);
// CPU is the bot process's user + system time until ready (less sensitive than wall time to a busy machine).
// With TEST_DATABASE_URL (or BENCH_DATABASE_URL) set, each round also times a start on that server, for
// comparison: the same bot without an embedded server. BENCH_BOT_ENTRY=dist/src/main.js times the production
// build instead (`npm run build` first).
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, spawnBot, type BotProcess } from '../test/support/bot.ts';
import { FakeDiscord } from '../test/support/fake-discord.ts';
import { createBenchDatabase, postgresUrl } from './lib/database.ts';
import { childrenOf, cpuMs, loadAverage, pssMb } from './lib/proc.ts';

const rounds = Number(process.argv[2] ?? 3);
const IDLE_MS = 15_000;

const discord = await FakeDiscord.start();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ready(dataDir: string, extra: Record<string, string> = {}): Promise<{ bot: BotProcess; wallMs: number; startupMs: number }> {
  const t0 = performance.now();
  const entry = process.env.BENCH_BOT_ENTRY;
  const bot = spawnBot({ DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, DATA_DIR: dataDir, LOG_LEVEL: 'info', ...extra }, entry ? { args: [path.resolve(entry)] } : {});
  const line = await bot.waitForLog((l) => l.msg === 'bot ready', 30_000);
  return { bot, wallMs: performance.now() - t0, startupMs: line.startupMs as number };
}

const results: Record<string, number[]> = {};
const add = (k: string, v: number) => (results[k] ??= []).push(v);
const timed = (name: string, r: { bot: BotProcess; wallMs: number; startupMs: number }) => {
  add(`${name}: ready (ms, from spawn)`, r.wallMs);
  add(`${name}: startupMs`, r.startupMs);
  add(`${name}: bot CPU until ready (ms)`, cpuMs(r.bot.child.pid!));
};
console.log(`load before: ${loadAverage().toFixed(2)}`);
// The very first `npm start` of a fresh clone also compiles the sources (scripts/start.mjs → .build/): timed once,
// with the compiled tree removed first (the rounds below find it compiled, as every later start does).
if (!process.env.BENCH_BOT_ENTRY) {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'mjbot-bench-start-'));
  await chmod(parent, 0o755);
  await rm(path.join(ROOT, '.build'), { recursive: true, force: true });
  const fresh = await ready(path.join(parent, 'data'));
  timed('fresh clone: compile + first start', fresh);
  await fresh.bot.stop();
  await rm(parent, { recursive: true, force: true });
}
for (let round = 1; round <= rounds; round++) {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'mjbot-bench-start-'));
  await chmod(parent, 0o755); // run as root, the server's unprivileged user must reach it
  const dataDir = path.join(parent, 'data');
  try {
    const first = await ready(dataDir);
    timed('first start', first);
    await first.bot.stop();

    const next = await ready(dataDir);
    timed('next start', next);
    await sleep(IDLE_MS);
    const postmaster = Number((await readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const server = [postmaster, ...childrenOf(postmaster)].map(pssMb);
    const bot = pssMb(next.bot.child.pid!);
    const sum = (k: 'pss' | 'rss') => server.reduce((s, m) => s + m[k], 0);
    add('idle: bot PSS (MB)', bot.pss);
    add('idle: bot RSS (MB)', bot.rss);
    add(`idle: server PSS (MB, ${server.length} processes)`, sum('pss'));
    add('idle: server RSS summed (MB)', sum('rss'));
    add('idle: bot + server PSS (MB)', bot.pss + sum('pss'));
    add('idle: bot + server RSS summed (MB)', bot.rss + sum('rss'));
    await next.bot.kill();

    const again = await ready(dataDir);
    timed('after a SIGKILL', again);
    await again.bot.stop();

    if (postgresUrl()) {
      const external = await createBenchDatabase('postgres');
      const first = await ready(dataDir, external.env);
      timed('external PostgreSQL, fresh database', first);
      await first.bot.stop();
      const next = await ready(dataDir, external.env);
      timed('external PostgreSQL, next start', next);
      await next.bot.stop();
      await external.destroy();
    }
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}
await discord.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`\n| measure (${rounds} rounds) | median | each round |\n|---|---|---|`);
for (const [k, v] of Object.entries(results)) console.log(`| ${k} | ${median(v).toFixed(0)} | ${v.map((x) => x.toFixed(0)).join(', ')} |`);
console.log(`\nload after: ${loadAverage().toFixed(2)}; node ${process.version}; ${os.cpus().length} cores`);
