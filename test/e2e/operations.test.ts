// Operating the bot as the Docker image does: `npm run build` in a clean directory, then `node dist/src/main.js`
// (the image's CMD) — /healthz and /metrics answer, and SIGTERM mid-job loses nothing.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT, startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { ALICE, isDelivered, simulatorEnv, slashDraw } from './support.ts';

const run = promisify(execFile);
let buildDir: string;
let discord: FakeDiscord;
let db: TestDatabase;
let bot: BotProcess;
let env: Record<string, string>;

/** What the Dockerfile's build stage copies, built with the same script, in a directory of its own. */
async function buildLikeTheImage(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mj-build-'));
  for (const entry of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'commands', 'locales', 'drizzle', 'static']) {
    await cp(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  await run('npm', ['run', 'build'], { cwd: dir, timeout: 180_000 });
  return dir;
}

const production = () => startBot(env, { cwd: buildDir, args: ['dist/src/main.js'] });
const portOf = (b: BotProcess) => b.logs.find((l) => l.msg === 'http server listening')!.port as number;
const get = (b: BotProcess, route: string) => fetch(`http://127.0.0.1:${portOf(b)}${route}`);

beforeAll(async () => {
  [buildDir, discord, db] = await Promise.all([buildLikeTheImage(), FakeDiscord.start(), createTestDatabase()]);
  // Simulator steps of 600 ms: a job takes about 3 s, long enough to stop the bot in the middle of one.
  env = { ...simulatorEnv(discord, db, 600), DATA_DIR: path.join(buildDir, 'data'), USER_MAX_CONCURRENT: '1' };
  bot = await production();
}, 240_000);

afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await discord?.close();
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
});

describe('the production build', () => {
  it('answers /healthz with the gateway and database state', async () => {
    const res = await get(bot, '/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, gateway: true, database: true });
  });

  it('serves Prometheus metrics: jobs by status and account, queue depth, relay latency, Discord errors, translations', async () => {
    const done = await (await slashDraw(discord, 'a metric cat')).waitForMessage(isDelivered, 20_000);
    expect(done.attachments[0]!.filename).toMatch(/^grid_/);
    // The counter moves once the delivery is recorded, a moment after the upload reaches Discord.
    const text = await vi.waitFor(async () => {
      const res = await get(bot, '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const body = await res.text();
      expect(body).toMatch(/^mj_jobs_finished_total\{status="succeeded",account="simulator"\} 1$/m);
      return body;
    });
    expect(text).toMatch(/^mj_relay_request_duration_seconds_count\{account="simulator",operation="submit",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^mj_relay_request_duration_seconds_count\{account="simulator",operation="fetch",outcome="ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^mj_queue_depth 0$/m);
    // Every line about the job carries its task id: one filter gives its whole story.
    const taskId = bot.logs.find((l) => l.msg === 'task accepted' && l.prompt === 'a metric cat')!.taskId;
    expect(bot.logs.filter((l) => l.taskId === taskId).map((l) => l.msg)).toEqual(['task accepted', 'task submitted', 'result ready at the relay', 'result delivered']);
    for (const name of ['mj_jobs', 'mj_discord_rest_errors_total', 'mj_translation_requests_total', 'mj_process_resident_memory_bytes']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('on SIGTERM stops taking jobs, exits cleanly, and the next start finishes the job it was running and the one queued', async () => {
    const running = await slashDraw(discord, 'a sigterm cat');
    await bot.waitForLog((l) => l.msg === 'task accepted' && l.prompt === 'a sigterm cat');
    const queued = await slashDraw(discord, 'a patient dog'); // USER_MAX_CONCURRENT 1: waits for the first
    await running.waitForMessage((m) => /\(\d+%\)$/.test(m.content), 10_000);
    const submittedBefore = bot.logs.filter((l) => l.msg === 'task submitted').length;
    const old = bot;
    await old.stop();
    expect(await old.exited).toBe(0);
    expect(old.logs.some((l) => l.msg === 'shutting down')).toBe(true);
    // Stopping claimed nothing new: the queued job was not submitted by the old process.
    expect(old.logs.filter((l) => l.msg === 'task submitted')).toHaveLength(submittedBefore);
    expect(old.logs.some((l) => l.msg === 'task submitted' && l.prompt === 'a patient dog')).toBe(false);

    bot = await production();
    const [first, second] = await Promise.all([running.waitForMessage(isDelivered, 30_000), queued.waitForMessage(isDelivered, 30_000)]);
    expect(first.content).toBe(`**a sigterm cat** - <@${ALICE}>`);
    expect(second.content).toBe(`**a patient dog** - <@${ALICE}>`);
    // Each was delivered once, and each went upstream once (the running one was not submitted again).
    expect(running.edits().filter((e) => isDelivered(e.message))).toHaveLength(1);
    expect(queued.edits().filter((e) => isDelivered(e.message))).toHaveLength(1);
    expect(bot.logs.filter((l) => l.msg === 'task submitted').map((l) => l.prompt)).toEqual(['a patient dog']);
    discord.assertNoViolations();
  }, 60_000);
});
