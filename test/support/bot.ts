// Starts the real bot (`src/main.ts`, the same entry point as `npm start`) as a child process and keeps
// its JSON log lines, so end-to-end tests see the bot exactly as an operator runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface BotProcess {
  child: ChildProcess;
  logs: LogLine[];
  stderr: string[];
  /** Resolves with the first log line matching. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

/**
 * What `npm start` runs: the launcher that runs the bot from its compiled `.build/` tree (compiled first when a
 * source changed; the test setup compiles it once). By absolute path, so the bot can run from any working
 * directory (it reads .env and ./data there). `entry` and `args` as for `npm run start:cluster`.
 */
export const LAUNCHER = path.join(ROOT, 'scripts/start.mjs');
export const launcherArgs = (entry = 'src/main.ts', ...args: string[]) => ['--enable-source-maps', LAUNCHER, entry, ...args];

export interface SpawnOptions {
  cwd?: string;
  /** Node's arguments instead of the launcher + src/main.ts (what `npm start` runs): e.g. a production build's entry. */
  args?: string[];
}

/** Runs `src/main.ts` (what `npm start` runs) with exactly the given environment (plus PATH/HOME), not the test runner's. */
export function spawnBot(env: Record<string, string>, opts: SpawnOptions = {}): BotProcess {
  const child = spawn(process.execPath, opts.args ?? launcherArgs(), {
    cwd: opts.cwd ?? ROOT,
    // HTTP_PORT 0: every bot in a test run gets a free port of its own.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: '1', LOG_LEVEL: 'debug', HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ level: 30, msg: line });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(chunk);
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => {
    for (const w of waiters) w();
  });

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 20_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs.find(match);
        if (found) return done(() => resolve(found));
        if (child.exitCode !== null || child.signalCode !== null) {
          done(() => reject(new Error(`bot exited (${child.exitCode ?? child.signalCode}) before the expected log line.\nstderr: ${stderr.join('')}\nlast logs: ${logs.slice(-10).map((l) => JSON.stringify(l)).join('\n')}`)));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for a log line; last logs:\n${logs.slice(-10).map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${stderr.join('')}`))), timeoutMs);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        fn();
      };
      waiters.add(check);
      check();
    });

  return {
    child,
    logs,
    stderr,
    waitForLog,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Spawns the bot and waits until it is ready (gateway connected, commands registered). */
export async function startBot(env: Record<string, string>, opts: SpawnOptions = {}): Promise<BotProcess> {
  const bot = spawnBot(env, opts);
  try {
    await bot.waitForLog((l) => l.msg === 'bot ready', 30_000);
  } catch (err) {
    await bot.kill();
    throw err;
  }
  return bot;
}

/** A TCP port that was free a moment ago: for a bot whose PUBLIC_URL must be known before it starts. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
