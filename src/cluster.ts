// `npm run start:cluster [-- --processes N]`: the bot as several processes on one machine, so it uses every core.
// Each process is the ordinary bot (src/main.ts) running some of the shards — the same thing as several
// instances on several machines (README → Running several instances), on one machine: they share the
// PostgreSQL database (DATABASE_URL is required: the embedded server belongs to the one process that started
// it), and Node's cluster module lets them share one HTTP_PORT for relay callbacks and /healthz.
//
// Shards: SHARD_COUNT in all (default: one per process); this machine runs SHARD_IDS (default: all of them),
// dealt out to the processes in turn. Processes: --processes N, default the number of cores (never more than
// shards). A process that dies is started again (1 s, doubling to 30 s); one that fails before it was ever
// ready stops the whole launcher, as `npm start` would stop. SIGINT/SIGTERM stop every process gracefully.
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';

/** Told by a worker (src/main.ts) once its bot is ready. */
export const READY_MESSAGE = 'mj:ready';

/** Shards `ids` dealt out to `processes` processes in turn: [[0, 2], [1, 3]] for 4 shards and 2 processes. */
export function dealShards(ids: readonly number[], processes: number): number[][] {
  const n = Math.max(1, Math.min(processes, ids.length));
  const out: number[][] = Array.from({ length: n }, () => []);
  ids.forEach((id, i) => out[i % n]!.push(id));
  return out;
}

function processesArg(argv: string[]): number | undefined {
  const i = argv.findIndex((a) => a === '--processes' || a.startsWith('--processes='));
  if (i < 0) return undefined;
  const raw = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new ConfigError(`--processes must be a whole number from 1 to 64 (got ${raw ?? 'nothing'}).`);
  return n;
}

async function primary(): Promise<void> {
  let config;
  let processes: number;
  try {
    config = loadConfig();
    processes = processesArg(process.argv.slice(2)) ?? os.availableParallelism();
    if (!config.DATABASE_URL) {
      throw new ConfigError('Configuration error: DATABASE_URL is not set — several processes need a PostgreSQL database to share (the embedded server belongs to one process; use `npm start`, or set DATABASE_URL).');
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
  const log = createLogger(config.LOG_LEVEL).child({ launcher: true });
  const shardCount = config.SHARD_COUNT ?? processes;
  const groups = dealShards(config.SHARD_IDS ?? [...Array(shardCount).keys()], processes);
  log.info({ processes: groups.length, shardCount, shards: groups }, 'starting bot processes');

  let stopping = false;
  const everReady = new Set<number>();
  const failures = new Map<number, { attempt: number; startedAt: number }>();
  const running = new Map<number, Worker>();

  const start = (slot: number) => {
    const worker = cluster.fork({ SHARD_COUNT: String(shardCount), SHARD_IDS: groups[slot]!.join(',') });
    running.set(slot, worker);
    const startedAt = Date.now();
    worker.on('message', (m: unknown) => {
      if (m !== READY_MESSAGE) return;
      everReady.add(slot);
      if (everReady.size === groups.length && [...running.values()].every((w) => w.isConnected())) log.info({ processes: groups.length }, 'all bot processes ready');
    });
    worker.on('exit', (code, signal) => {
      running.delete(slot);
      if (stopping) {
        if (running.size === 0) process.exit(process.exitCode ?? 0);
        return;
      }
      if (!everReady.has(slot)) {
        // It never got going (bad token, database unreachable…): the others would fail alike. Stop, like `npm start`.
        log.fatal({ shards: groups[slot], code, signal }, 'a bot process failed to start; stopping');
        stopAll(1);
        return;
      }
      // A long life resets the backoff.
      const previous = failures.get(slot);
      const attempt = previous && startedAt - previous.startedAt < 60_000 ? previous.attempt + 1 : 0;
      failures.set(slot, { attempt, startedAt });
      const delay = Math.min(30_000, 1_000 * 2 ** attempt);
      log.error({ shards: groups[slot], code, signal, restartInMs: delay }, 'a bot process exited; starting it again');
      setTimeout(() => !stopping && start(slot), delay);
    });
  };

  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    process.exitCode = code;
    if (running.size === 0) process.exit(code);
    for (const worker of running.values()) worker.process.kill('SIGTERM');
    // Each bot stops within its own grace (8 s); do not outwait Docker's 10 s.
    setTimeout(() => process.exit(code), 9_500).unref();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log.info({ signal }, 'stopping bot processes');
      stopAll(0);
    });
  }
  groups.forEach((_, slot) => start(slot));
}

if (cluster.isPrimary) await primary();
else await import('./main.ts');
