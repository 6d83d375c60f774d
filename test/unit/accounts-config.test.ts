// UPSTREAM_ACCOUNTS and the sharding variables: what a valid list builds, and the one-line error for each mistake.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createAccounts } from '../../src/upstream/index.ts';

const base = { DISCORD_TOKEN: 't' };
const load = (env: Record<string, string>) => loadConfig({ ...base, ...env }, '/nonexistent/.env');

describe('UPSTREAM_ACCOUNTS', () => {
  it('builds one adapter per account, with ids, default concurrency and modes', () => {
    const list = [
      { provider: 'ttapi', baseUrl: 'https://api.ttapi.io', apiKey: 'k1', weight: 2 },
      { provider: 'ttapi', baseUrl: 'https://api.ttapi.io', apiKey: 'k2', modes: ['relax'] },
      { id: 'backup', provider: 'piapi', baseUrl: 'https://api.piapi.ai', apiKey: 'k3', concurrency: 1 },
    ];
    const { accounts } = createAccounts(load({ UPSTREAM_ACCOUNTS: JSON.stringify(list) }));
    expect(accounts.list.map((a) => [a.id, a.provider.id, a.concurrency, a.weight, a.modes])).toEqual([
      ['ttapi-1', 'ttapi', 10, 2, undefined],
      ['ttapi-2', 'ttapi', 10, 1, ['relax']],
      ['backup', 'piapi', 1, 1, undefined],
    ]);
    expect(accounts.serves('relax')).toBe(true);
  });

  it('without it, the UPSTREAM_* variables are the one account, named after the provider', () => {
    const { accounts } = createAccounts(load({}));
    expect(accounts.list.map((a) => [a.id, a.concurrency])).toEqual([['simulator', 10]]);
  });

  it.each([
    ['not json', /UPSTREAM_ACCOUNTS is not valid JSON/],
    ['[]', /UPSTREAM_ACCOUNTS must list at least one account/],
    ['[{"provider":"nope"}]', /provider must be one of simulator/],
    ['[{"provider":"ttapi","apikey":"k"}]', /UPSTREAM_ACCOUNTS/],
    ['[{"id":"x","provider":"simulator"},{"id":"x","provider":"simulator"}]', /two accounts with the same id/],
  ])('refuses %s with a clear message', (value, message) => {
    expect(() => load({ UPSTREAM_ACCOUNTS: value })).toThrow(message);
  });

  it('names the entry that lacks its relay settings', () => {
    const config = load({ UPSTREAM_ACCOUNTS: '[{"provider":"simulator"},{"id":"main","provider":"ttapi","baseUrl":"https://api.ttapi.io"}]' });
    expect(() => createAccounts(config)).toThrow('UPSTREAM_ACCOUNTS entry "main" (ttapi) needs apiKey.');
  });
});

describe('sharding variables', () => {
  it('takes a count and this process’s shard ids', () => {
    expect(load({ SHARD_COUNT: '2', SHARD_IDS: '1' })).toMatchObject({ SHARD_COUNT: 2, SHARD_IDS: [1] });
    expect(load({ SHARD_COUNT: '' }).SHARD_COUNT).toBeUndefined();
  });

  it.each([
    [{ SHARD_IDS: '0' }, /SHARD_COUNT is not set/],
    [{ SHARD_COUNT: '2', SHARD_IDS: '2' }, /SHARD_IDS must be below SHARD_COUNT \(2\)/],
    [{ SHARD_COUNT: '2', SHARD_IDS: 'a' }, /SHARD_IDS/],
  ])('refuses %o', (env, message) => {
    expect(() => load(env)).toThrow(message);
  });
});
