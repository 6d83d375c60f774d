import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

const load = (env: Record<string, string>) => loadConfig(env as NodeJS.ProcessEnv);

describe('config', () => {
  it('needs only DISCORD_TOKEN and defaults to the simulator on the embedded PostgreSQL', () => {
    const c = load({ DISCORD_TOKEN: 't' });
    expect(c).toMatchObject({
      UPSTREAM_PROVIDER: 'simulator',
      DATA_DIR: './data',
      DISCORD_API_URL: 'https://discord.com/api',
      TASK_RETENTION_DAYS: 30,
      CLEANUP_CRON: '0 4 * * *',
      TTAPI_VIDEO_RESOLUTION: 'sd',
    });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('explains a missing token in one line with what to do', () => {
    expect(() => load({})).toThrow(ConfigError);
    expect(() => load({})).toThrow(/^Configuration error: DISCORD_TOKEN is not set — put your bot token in \.env/);
  });

  it.each([
    ['POLL_INTERVAL_MS', 'soon', /POLL_INTERVAL_MS must be a whole number/],
    ['UPSTREAM_PROVIDER', 'dalle', /UPSTREAM_PROVIDER must be one of simulator, midjourney-proxy/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL must start with postgres/],
    ['DISCORD_API_URL', 'discord.com', /DISCORD_API_URL must be an http\(s\) URL/],
    ['DISCORD_GUILD_ID', '12', /DISCORD_GUILD_ID must be a server/],
    ['CLEANUP_CRON', 'every day', /CLEANUP_CRON is not a valid cron expression/],
    ['HTTP_PORT', '70000', /HTTP_PORT must be at most 65535/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/],
    ['UPSTREAM_WEBHOOK_SECRET', 'short', /UPSTREAM_WEBHOOK_SECRET must be at least 16 characters/],
    ['TTAPI_VIDEO_RESOLUTION', '4k', /TTAPI_VIDEO_RESOLUTION must be sd or hd/],
  ])('rejects a bad %s', (name, value, message) => {
    expect(() => load({ DISCORD_TOKEN: 't', [name]: value })).toThrow(message);
  });

  it('treats empty optional variables as unset and trims the API URL', () => {
    const c = load({ DISCORD_TOKEN: 't', DATABASE_URL: '', DISCORD_GUILD_ID: ' ', DISCORD_API_URL: 'http://127.0.0.1:9/api/' });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.DISCORD_GUILD_ID).toBeUndefined();
    expect(c.DISCORD_API_URL).toBe('http://127.0.0.1:9/api');
  });

  it('reads TTAPI_VIDEO_RESOLUTION in any case, empty as the default', () => {
    expect(load({ DISCORD_TOKEN: 't', TTAPI_VIDEO_RESOLUTION: ' HD ' }).TTAPI_VIDEO_RESOLUTION).toBe('hd');
    expect(load({ DISCORD_TOKEN: 't', TTAPI_VIDEO_RESOLUTION: '' }).TTAPI_VIDEO_RESOLUTION).toBe('sd');
  });
});
