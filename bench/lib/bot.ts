// The real bot (src/main.ts, as `npm start` runs it: with the Node flags of package.json's "start") for a
// benchmark: spawned by test/support/bot.ts with the production log level, and measured from outside through /proc. BENCH_BOT_ENTRY runs another entry point
// instead (a production build: `npm run build && BENCH_BOT_ENTRY=dist/src/main.js npm run bench`);
// BENCH_NODE_OPTIONS gives the bot's Node options (e.g. `--max-old-space-size=192`), BENCH_NODE_ARGS Node flags
// NODE_OPTIONS refuses (e.g. `--cpu-prof`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, launcherArgs, spawnBot, startBot, type BotProcess } from '../../test/support/bot.ts';
import { cpuMsOfTree, memoryMbOfTree } from './proc.ts';

export interface BenchBot {
  process: BotProcess;
  pid: number;
  cpuMs(): number;
  memoryMb(): { rss: number; peak: number };
  stop(): Promise<void>;
  /** Warnings and errors the bot logged after it was ready, counted by message (what went wrong during the run). */
  problems(): Record<string, number>;
}

/** The Node flags `npm start` runs the bot with (package.json), so the bot is measured as it is run. */
function npmStartFlags(): string[] {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  return scripts.start!.split(/\s+/).filter((t) => /^--max-[\w-]+=/.test(t));
}

function entryArgs(processes: number): string[] {
  // Several processes: the launcher of `npm run start:cluster` (its production build's when the entry is a build).
  const main = process.env.BENCH_BOT_ENTRY ?? 'src/main.ts';
  const entry = processes > 1 ? main.replace(/main\.(ts|js)$/, 'cluster.$1') : process.env.BENCH_BOT_ENTRY;
  // Node flags NODE_OPTIONS does not take (e.g. `--cpu-prof --cpu-prof-dir=.scratch/prof`), before the entry.
  const flags = [...npmStartFlags(), ...(process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [])];
  const file = path.resolve(ROOT, entry ?? 'src/main.ts');
  const tail = processes > 1 ? ['--processes', String(processes)] : [];
  return [...flags, ...(file.endsWith('.ts') ? launcherArgs(file, ...tail) : [file, ...tail])];
}

/** `processes` above 1: the bot as `npm run start:cluster` runs it (needs DATABASE_URL and SHARD_COUNT in `env`). */
export async function startBenchBot(env: Record<string, string>, opts: { processes?: number } = {}): Promise<BenchBot> {
  const processes = opts.processes ?? 1;
  // info, as in production (spawnBot's default is debug, which a burst of thousands of jobs would pay for).
  const nodeOptions: Record<string, string> = process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {};
  const bot = processes > 1 ? spawnBot({ LOG_LEVEL: 'info', ...nodeOptions, ...env }, { args: entryArgs(processes) }) : await startBot({ LOG_LEVEL: 'info', ...nodeOptions, ...env }, { args: entryArgs(1) });
  if (processes > 1) {
    try {
      await bot.waitForLog((l) => l.msg === 'all bot processes ready', 60_000);
    } catch (err) {
      await bot.kill();
      throw err;
    }
  }
  const pid = bot.child.pid!;
  return {
    process: bot,
    pid,
    // With several processes: the launcher and every bot process together.
    cpuMs: () => cpuMsOfTree(pid),
    memoryMb: () => memoryMbOfTree(pid),
    stop: () => bot.stop(),
    problems() {
      const counts: Record<string, number> = {};
      // Start-up notices (simulator placeholders, Baidu not configured) are not problems of the run.
      const ready = bot.logs.findIndex((l) => l.msg === 'bot ready');
      for (const line of bot.logs.slice(ready + 1)) if (line.level >= 40) counts[line.msg] = (counts[line.msg] ?? 0) + 1;
      return counts;
    },
  };
}
