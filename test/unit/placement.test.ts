// Placement rules, on their own: order, per-user share, weights, paused accounts, modes and capabilities.
import { describe, expect, it } from 'vitest';
import { hasRoom, place } from '../../src/tasks/placement.ts';
import type { QueuedTask } from '../../src/tasks/repo.ts';
import { Accounts, FAILURE_STREAK, type Account } from '../../src/upstream/accounts.ts';
import { UpstreamAccountError } from '../../src/upstream/provider.ts';
import { SimulatorProvider } from '../../src/upstream/simulator.ts';
import { TtApiProvider } from '../../src/upstream/ttapi.ts';

const sim = new SimulatorProvider(10);
const tt = TtApiProvider.create({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k' });
const acct = (id: string, extra: Partial<Account> = {}): Account => ({ id, provider: sim, concurrency: 10, weight: 1, ...extra });
const job = (id: string, extra: Partial<QueuedTask> = {}): QueuedTask => ({ id, userId: `user-${id}`, action: 'imagine', mode: null, hasImages: false, hasPrompt: true, account: null, ...extra });
const run = (queued: QueuedTask[], accounts: Account[], opts: { usable?: (id: string) => boolean; userMax?: number; inFlight?: { account: string; userId: string; n: number }[] } = {}) =>
  place({ queued, inFlight: opts.inFlight ?? [], accounts, usable: opts.usable ?? (() => true), userMaxConcurrent: opts.userMax ?? 10 });

describe('place', () => {
  it('fills free slots oldest first and stops when every account is full', () => {
    const { placements } = run([job('1'), job('2'), job('3')], [acct('a', { concurrency: 3 })], { inFlight: [{ account: 'a', userId: 'x', n: 1 }] });
    expect(placements).toEqual([{ id: '1', account: 'a' }, { id: '2', account: 'a' }]);
  });

  it('shares new jobs by weight', () => {
    const queued = Array.from({ length: 9 }, (_, i) => job(String(i)));
    const { placements } = run(queued, [acct('big', { weight: 2 }), acct('small', { weight: 1 })]);
    const count = (id: string) => placements.filter((p) => p.account === id).length;
    expect([count('big'), count('small')]).toEqual([6, 3]);
  });

  it('skips paused accounts; a job pinned to one waits without holding up the rest', () => {
    const { placements, unplaceable } = run([job('pinned', { account: 'a', action: 'upscale:1' }), job('free')], [acct('a'), acct('b')], { usable: (id) => id !== 'a' });
    expect(placements).toEqual([{ id: 'free', account: 'b' }]);
    expect(unplaceable).toEqual([]);
  });

  it('keeps a user to their share while others go ahead', () => {
    const queued = [job('1', { userId: 'al' }), job('2', { userId: 'al' }), job('3', { userId: 'bo' })];
    expect(run(queued, [acct('a')], { userMax: 1 }).placements.map((p) => p.id)).toEqual(['1', '3']);
  });

  it('routes by mode and capability, and fails jobs nothing can run', () => {
    const accounts = [acct('relax-only', { modes: ['relax'] }), acct('tt', { provider: tt })];
    const { placements, unplaceable } = run(
      [job('turbo', { mode: 'turbo' }), job('relax', { mode: 'relax' }), job('blend', { action: 'blend' }), job('gone', { account: 'removed', action: 'upscale:1' })],
      accounts,
    );
    expect(placements).toEqual([{ id: 'turbo', account: 'tt' }, { id: 'relax', account: 'relax-only' }, { id: 'blend', account: 'relax-only' }]);
    expect(unplaceable).toEqual([{ id: 'gone', reason: 'errors.expired' }]);
  });

  it('puts an /animate without a motion prompt only where the relay animates without one', () => {
    // TTApi requires a prompt; the simulator does not, but already has more to do.
    const accounts = [acct('tt', { provider: tt }), acct('sim')];
    const inFlight = [{ account: 'sim', userId: 'x', n: 5 }];
    const queued = [job('bare', { action: 'animate', hasImages: true, hasPrompt: false }), job('moving', { action: 'animate', hasImages: true })];
    expect(run(queued, accounts, { inFlight }).placements).toEqual([{ id: 'bare', account: 'sim' }, { id: 'moving', account: 'tt' }]);
    // Where no relay can, it fails saying a motion prompt is needed.
    expect(run([job('bare', { action: 'animate', hasImages: true, hasPrompt: false })], [acct('tt', { provider: tt })]).unplaceable).toEqual([
      { id: 'bare', reason: 'video:errors.promptRequired' },
    ]);
  });
});

describe('hasRoom', () => {
  it('is false only when every usable account is full: then place starts nothing', () => {
    const accounts = [acct('a', { concurrency: 2 }), acct('b', { concurrency: 1 })];
    const full = [{ account: 'a', userId: 'u1', n: 2 }, { account: 'b', userId: 'u2', n: 1 }];
    expect(hasRoom({ inFlight: full, accounts, usable: () => true })).toBe(false);
    expect(run([job('1')], accounts, { inFlight: full }).placements).toEqual([]);
    expect(hasRoom({ inFlight: full.slice(0, 1), accounts, usable: () => true })).toBe(true);
    // Room only on a paused account is no room.
    expect(hasRoom({ inFlight: full.slice(0, 1), accounts, usable: (id) => id !== 'b' })).toBe(false);
  });
});

describe('Accounts health', () => {
  it('pauses an account after a failure streak or at once for a bad key, but never the only account', () => {
    let now = 0;
    const two = new Accounts([acct('a'), acct('b')], () => now);
    const busy = new UpstreamAccountError('unavailable', '502');
    for (let i = 1; i < FAILURE_STREAK; i++) expect(two.recordFailure('a', busy)).toBeUndefined();
    expect(two.recordFailure('a', busy)).toEqual(new Date(60_000));
    expect(two.state('a')).toMatchObject({ state: 'paused', reason: 'unavailable' });
    now = 60_001;
    expect(two.usable('a')).toBe(true);
    expect(two.recordFailure('b', new UpstreamAccountError('auth', '401'))).toEqual(new Date(now + 600_000));
    two.recordSuccess('a');
    expect(two.state('a')).toEqual({ state: 'ok', failures: 0 });

    const one = new Accounts([acct('only')]);
    expect(one.recordFailure('only', new UpstreamAccountError('auth', '401'))).toBeUndefined();
    expect(one.usable('only')).toBe(true);
  });
});
