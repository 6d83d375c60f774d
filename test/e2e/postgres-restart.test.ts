// A real PostgreSQL restart in the middle of running jobs: the bot rides it out, reconnects, and every job is
// delivered. The server is a private one made for this test (initdb in a temporary directory, its own port),
// so restarting it disturbs no other test. Runs in the PostgreSQL pass of the suite, where a server is expected.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBot, type BotProcess } from '../support/bot.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { ALICE, BOB, discordEnv, isDelivered, slashDraw } from './support.ts';

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';
const pgBin = existsSync(PG_ROOT) ? path.join(PG_ROOT, readdirSync(PG_ROOT).sort().at(-1)!, 'bin') : undefined;
const enabled = Boolean(process.env.TEST_DATABASE_URL && pgBin);
const CAROL = '100000000000000003';

/** initdb refuses to run as root: the server runs as the postgres user then. */
const asServerUser = (cmd: string, args: string[]) =>
  userInfo().uid === 0 ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args);

let dir: string;
let port: number;
let discord: FakeDiscord;
let bot: BotProcess;
const pgCtl = (...args: string[]) => asServerUser(path.join(pgBin!, 'pg_ctl'), ['-D', path.join(dir, 'data'), '-w', ...args]);

beforeAll(async () => {
  if (!enabled) return;
  dir = await mkdtemp(path.join(tmpdir(), 'mj-pg-'));
  if (userInfo().uid === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout), Number(gid));
  }
  port = await freePort();
  await asServerUser(path.join(pgBin!, 'initdb'), ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
  await pgCtl('-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start');
  discord = await FakeDiscord.start();
  bot = await startBot({
    ...discordEnv(discord),
    DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
    SIMULATOR_STEP_MS: '500',
    POLL_INTERVAL_MS: '100',
    PROGRESS_EDIT_INTERVAL_MS: '1000',
  });
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await discord?.close();
  if (dir) {
    await pgCtl('-m', 'immediate', 'stop').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

describe.runIf(enabled)('a PostgreSQL restart mid-run', () => {
  it('loses no job: those running are delivered, and the bot takes new ones once the database is back', async (ctx) => {
    // A crash here once came from the postgres driver itself (see patches/): show how the bot ended.
    ctx.onTestFailed(() => console.log(bot.logs.slice(-25).map((l) => JSON.stringify(l).slice(0, 400)).join('\n'), '\nexit:', bot.child.exitCode, bot.child.signalCode, '\nstderr:', bot.stderr.join('')));
    const jobs = [await slashDraw(discord, 'a cat before the restart', ALICE), await slashDraw(discord, 'a dog before the restart', BOB)];
    for (const prompt of ['a cat before the restart', 'a dog before the restart']) await bot.waitForLog((l) => l.msg === 'task submitted' && l.prompt === prompt);
    // (-l: without a log file the server would keep pg_ctl's output pipe open, and pg_ctl would never return.)
    await pgCtl('-l', path.join(dir, 'log'), '-m', 'fast', 'restart');
    const delivered = await Promise.all(jobs.map((j) => j.waitForMessage(isDelivered, 30_000)));
    expect(delivered.map((m) => m.content)).toEqual([`**a cat before the restart** - <@${ALICE}>`, `**a dog before the restart** - <@${BOB}>`]);
    for (const m of delivered) expect(m.attachments[0]!.filename).toMatch(/^grid_/);
    const after = await (await slashDraw(discord, 'a bird after the restart', CAROL)).waitForMessage(isDelivered, 30_000);
    expect(after.content).toBe(`**a bird after the restart** - <@${CAROL}>`);
    expect(bot.child.exitCode).toBeNull();
    discord.assertNoViolations();
  }, 60_000);
});
