// What an operator sees when the configuration is wrong: one clear line and exit code 1, no stack trace.
import { describe, expect, it } from 'vitest';
import { spawnBot } from '../support/bot.ts';

async function run(env: Record<string, string>) {
  const bot = spawnBot(env);
  const code = await bot.exited;
  return { code, stderr: bot.stderr.join('').trim() };
}

describe('start-up errors', () => {
  it('a missing DISCORD_TOKEN prints what to do and exits 1', async () => {
    const { code, stderr } = await run({});
    expect(code).toBe(1);
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/DISCORD_TOKEN is not set — put your bot token in \.env/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('a bad value names the variable and exits 1', async () => {
    const { code, stderr } = await run({ DISCORD_TOKEN: 'x', UPSTREAM_PROVIDER: 'dall-e' });
    expect(code).toBe(1);
    expect(stderr).toBe('Configuration error: UPSTREAM_PROVIDER must be one of simulator, midjourney-proxy, midjourney-node-api, imagineapi, acedata, ttapi, piapi, legnext.');
  });
});
