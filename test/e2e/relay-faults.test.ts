// A relay misbehaving, end to end against the midjourney-proxy fake: a 5xx streak on submit, answers that are not
// JSON while the job is polled, and callbacks that arrive twice and out of order. Every job still ends with
// exactly one result, and progress never runs backwards.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { useRelaySession } from './relay-session.ts';
import { isDelivered, slashDraw } from './support.ts';

const KEY = 'mj-faults-secret';
let discord: FakeDiscord;
let mj: FakeMidjourneyProxy;

beforeAll(async () => {
  [discord, mj] = await Promise.all([FakeDiscord.start(), FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 100 })]);
});
afterAll(async () => {
  await mj?.close();
  await discord?.close();
});

const percentages = (contents: string[]) => contents.map((c) => /\((\d+)%\)$/.exec(c)?.[1]).filter(Boolean).map(Number);

describe('a relay in trouble, polled', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, mode: 'polled', discord }));

  it('rides out a streak of 5xx on submit (asks the relay, then retries with backoff) and delivers', async () => {
    // A 503 does not say the relay did not take the job, so each one is followed by a look-up before the retry:
    // submit 503, look-up 503, submit 503, look-up (nothing there), submit accepted.
    const listsBefore = mj.server.requests.filter((r) => r.path === '/mj/task/list').length;
    mj.server.inject.serverErrors = 3;
    const { final } = await s.draw('a cat through a storm of 503s');
    expect(final.attachments[0]!.filename).toMatch(/^grid_/);
    expect(s.bot.logs.filter((l) => l.msg === 'upstream busy; retrying' && l.detail === '/mj/submit/imagine: HTTP 503')).toHaveLength(2);
    expect(s.bot.logs.filter((l) => l.msg === 'could not ask the relay whether it has the job')).toHaveLength(1);
    expect(mj.server.requests.filter((r) => r.path === '/mj/task/list').length - listsBefore).toBe(2);
    expect(mj.server.requests.filter((r) => r.path === '/mj/submit/imagine' && JSON.stringify(r.body).includes('storm of 503s'))).toHaveLength(3);
  });

  it('keeps polling through answers that are not JSON, and delivers once the relay makes sense again', async () => {
    mj.holdPrompt('a garbled cat');
    const interaction = await slashDraw(discord, 'a garbled cat');
    await s.bot.waitForLog((l) => l.msg === 'task submitted' && l.prompt === 'a garbled cat');
    mj.server.inject.malformed = 3;
    await s.bot.waitForLog((l) => l.msg === 'polling the relay failed; trying again next tick' && /not JSON/.test(JSON.stringify(l.err)));
    mj.release();
    const done = await interaction.waitForMessage(isDelivered, 20_000);
    expect(done.attachments[0]!.filename).toMatch(/^grid_/);
    expect(interaction.edits().filter((e) => isDelivered(e.message))).toHaveLength(1);
  });
});

describe('a relay that stops answering', () => {
  /** In front of the fake: the first two submissions are accepted and never answered. */
  let front: Server;
  let hung = 0;
  beforeAll(async () => {
    front = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      if (req.url === '/mj/submit/imagine' && hung < 2) return void (hung += 1);
      const upstream = await fetch(`${mj.url}${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body: req.method === 'GET' ? undefined : Buffer.concat(chunks) });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await upstream.arrayBuffer()));
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => {
    front.closeAllConnections();
    front.close();
  });
  const s = useRelaySession(() => ({
    provider: 'midjourney-proxy',
    baseUrl: `http://127.0.0.1:${(front.address() as { port: number }).port}`,
    apiKey: KEY,
    mode: 'polled',
    discord,
    env: { UPSTREAM_TIMEOUT_MS: '1000' },
  }));

  it('gives up on a request after UPSTREAM_TIMEOUT_MS, retries, and delivers', async () => {
    const { final } = await s.draw('a cat on a silent line');
    expect(final.attachments[0]!.filename).toMatch(/^grid_/);
    expect(hung).toBe(2);
    expect(s.bot.logs.filter((l) => l.msg === 'upstream busy; retrying' && /timeout|aborted/i.test(String(l.detail)))).toHaveLength(2);
  });
});

describe('a relay in trouble, pushed', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, mode: 'pushed', discord }));

  it('ignores duplicate and out-of-order callbacks: progress never goes back, one result', async () => {
    mj.holdPrompt('an unruly cat');
    const interaction = await slashDraw(discord, 'an unruly cat');
    await s.bot.waitForLog((l) => l.msg === 'task submitted' && l.prompt === 'an unruly cat');
    const submit = mj.requests.findLast((r) => r.path === '/mj/submit/imagine')!;
    const hook = String((submit.body as { notifyHook: string }).notifyHook);
    const id = [...mj.tasks.keys()].at(-1)!;
    const push = (json: unknown) => fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
    // The relay is held at 91%; a stale 25% arrives late, twice.
    await expect.poll(() => mj.task(id)?.progress).toBe('91%');
    await s.bot.waitForLog((l) => l.msg === 'callback received' && l.progress === 91);
    const stale = { ...mj.task(id)!, progress: '25%' };
    expect((await push(stale)).status).toBe(200);
    expect((await push(stale)).status).toBe(200);
    mj.release();
    const done = await interaction.waitForMessage(isDelivered, 20_000);
    // The final state, pushed again (relays resend): answered 200 once handled, and nothing is sent twice.
    expect((await push(mj.task(id))).status).toBe(200);
    expect(done.attachments[0]!.filename).toMatch(/^grid_/);
    const shown = percentages(interaction.edits().map((e) => e.message.content));
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
    expect(interaction.edits().filter((e) => isDelivered(e.message))).toHaveLength(1);
    discord.assertNoViolations();
  });
});
