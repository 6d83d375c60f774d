// The real bot (src/main.ts, as `npm start` runs it) for a benchmark: spawned by test/support/bot.ts with the
// production log level, and measured from outside through /proc. BENCH_BOT_ENTRY runs another entry point
// instead (a production build: `npm run build && BENCH_BOT_ENTRY=dist/src/main.js npm run bench`);
// BENCH_NODE_OPTIONS gives the bot's Node options (e.g. `--max-old-space-size=192`).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, startBot, type BotProcess } from '../../test/support/bot.ts';
import { cpuMs, memoryMb } from './proc.ts';

export interface BenchBot {
  process: BotProcess;
  pid: number;
  cpuMs(): number;
  memoryMb(): { rss: number; peak: number };
  stop(): Promise<void>;
  /** Warnings and errors the bot logged after it was ready, counted by message (what went wrong during the run). */
  problems(): Record<string, number>;
}

const TSX_LOADER = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

function entryArgs(): string[] | undefined {
  const entry = process.env.BENCH_BOT_ENTRY;
  if (!entry) return undefined;
  const file = path.resolve(ROOT, entry);
  return file.endsWith('.ts') ? ['--import', TSX_LOADER, file] : [file];
}

export async function startBenchBot(env: Record<string, string>): Promise<BenchBot> {
  // info, as in production (spawnBot's default is debug, which a burst of thousands of jobs would pay for).
  const nodeOptions: Record<string, string> = process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {};
  const bot = await startBot({ LOG_LEVEL: 'info', ...nodeOptions, ...env }, { args: entryArgs() });
  const pid = bot.child.pid!;
  return {
    process: bot,
    pid,
    cpuMs: () => cpuMs(pid),
    memoryMb: () => memoryMb(pid),
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
