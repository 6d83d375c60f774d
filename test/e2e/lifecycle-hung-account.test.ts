// Issue 16, case 5: one hung relay account must slow only its own jobs. Two TTApi accounts; B's relay answers
// every request only after 15 s (it does the work, the answer is late). Once B holds a job, every request to B
// (its polls) hangs for 25 s. Jobs that go to A meanwhile keep their normal pace. Asserted by order, not by the
// clock: every job accepted while B was sitting on a request is delivered before B answers that request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { FaultProxy, type ProxiedRequest } from '../support/fault-proxy.ts';
import { FakeTtApi } from '../support/fake-ttapi.ts';
import { accountsEnv, deliveredAt, finalsFor, until } from './lifecycle-support.ts';
import { failureOf, printLogsOnFailure, resultOf } from './queue-support.ts';

const HANG_MS = 15_000;
const user = (i: number) => `1000000000000001${String(i).padStart(2, '0')}`;

let discord: FakeDiscord;
let a: FakeTtApi;
let b: FakeTtApi;
let slowB: FaultProxy;
let db: TestDatabase;
let bot: BotProcess | undefined;

beforeAll(async () => {
  [discord, a, b, db] = await Promise.all([FakeDiscord.start(), FakeTtApi.start({ stepMs: 200 }), FakeTtApi.start({ stepMs: 200 }), createTestDatabase()]);
  slowB = await FaultProxy.start(b.url, { delayMs: HANG_MS });
  bot = await startBot(
    accountsEnv(discord, db, [
      // B first: where the two are equally loaded, it is the one that gets the first job.
      { id: 'b', provider: 'ttapi', baseUrl: slowB.url, apiKey: b.apiKey, concurrency: 1 },
      { id: 'a', provider: 'ttapi', baseUrl: a.url, apiKey: a.apiKey, concurrency: 6 },
    ]),
  );
});
afterAll(async () => {
  await bot?.stop();
  await slowB?.close();
  await db?.destroy();
  await a?.close();
  await b?.close();
  await discord?.close();
});

printLogsOnFailure(() => [bot]);

const draw = (prompt: string, i: number) => discord.slashCommand({ name: 'draw', options: { prompt }, userId: user(i), locale: 'en-US' });
const submittedPrompt = (r: ProxiedRequest) => (r.body as { prompt?: string } | undefined)?.prompt;

describe('a hung relay account beside a healthy one', () => {
  it('keeps the healthy account’s jobs at their normal pace while the hung one sits on a request', async () => {
    // A first job (or two) until B has one: its submission now hangs for 15 s.
    const first: string[] = [];
    for (let i = 0; i < 4 && slowB.received === 0; i++) {
      const prompt = `first job ${i + 1}`;
      first.push(prompt);
      await draw(prompt, i);
      await until(() => slowB.received > 0 || a.submissions.some((s) => s.prompt === prompt), 10_000, `"${prompt}" to reach a relay`);
    }
    expect(slowB.received, 'B never got a request').toBeGreaterThan(0);
    // B answers its first request (the job is B's now); the bot follows it there, and that request hangs in turn.
    await until(() => slowB.answered.length > 0, HANG_MS + 15_000, 'B to answer its first request');
    await until(() => slowB.pending.length > 0, 20_000, 'the bot to send B another request (following its job)');
    const hanging = slowB.pending[0]!;

    // Six jobs while B sits on that request; B (concurrency 1) is still busy with its job as far as the bot knows.
    const later = [1, 2, 3, 4, 5, 6].map((i) => `healthy account job ${i}`);
    for (const [i, prompt] of later.entries()) await draw(prompt, 10 + i);
    const sentAt = Date.now();
    const ended = (p: string) => deliveredAt(discord, p) !== undefined || finalsFor(discord, p).failures.length > 0;
    const onB = () => new Set(slowB.log.map(submittedPrompt).filter(Boolean));
    // A's jobs (those B never received). No throw on timeout: the order below says what went wrong.
    await until(() => later.filter((p) => !onB().has(p)).every(ended), 75_000, 'the healthy account’s jobs to end').catch(() => undefined);

    // B was busy with its first job as far as the bot could know, so A should have got them all; a bot that
    // only learns late that B has room may place one there: those are B's jobs, not part of the claim.
    const onA = later.filter((p) => !onB().has(p));
    expect(onA.length, `jobs placed on the healthy account (B got ${later.length - onA.length})`).toBeGreaterThanOrEqual(4);
    const answeredAt = hanging.answeredAt ?? Number.POSITIVE_INFINITY;
    const late = onA
      .map((p) => ({ p, at: deliveredAt(discord, p) ?? Number.POSITIVE_INFINITY }))
      .filter(({ at }) => !(at < answeredAt))
      .map(({ p, at }) => `"${p}": ${at === Number.POSITIVE_INFINITY ? 'not delivered within 75 s' : `delivered ${at - answeredAt} ms after`}`);
    expect(late, `B answered the request it was sitting on ${answeredAt - sentAt} ms after these jobs were sent`).toEqual([]);
    for (const p of onA) expect(finalsFor(discord, p).failures.map((f) => f.content), p).toEqual([]);

    // And every job, B's included, ends once.
    await Promise.all([...first, ...later].map((p) => discord.waitForMessage((m) => resultOf(p)(m) || failureOf(p)(m), 2 * HANG_MS + 30_000)));
    for (const p of [...first, ...later]) {
      const { uploads, failures } = finalsFor(discord, p);
      expect(failures.map((f) => f.content), p).toEqual([]);
      expect(uploads, p).toHaveLength(1);
    }
    discord.assertNoViolations();
  }, 240_000);
});
