// The settings of the cleanup and the admin tools, and the database-only configuration of `npm run purge`.
import { describe, expect, it } from 'vitest';
import { loadConfig, loadMaintenanceConfig } from '../../src/config.ts';

const load = (env: Record<string, string>) => loadConfig({ DISCORD_TOKEN: 't', ...env } as NodeJS.ProcessEnv);

describe('cleanup and admin settings', () => {
  it('defaults: daily cleanup at 04:00, 30 days kept, 10-minute stall timeout, 60-minute queue cap, no owners', () => {
    expect(load({})).toMatchObject({ CLEANUP_CRON: '0 4 * * *', TASK_RETENTION_DAYS: 30, JOB_TIMEOUT_MINUTES: 10, QUEUE_TIMEOUT_MINUTES: 60, BOT_OWNER_IDS: [] });
  });

  it('reads owners as a comma-separated list and refuses anything that is not a user id', () => {
    expect(load({ BOT_OWNER_IDS: ' 100000000000000001 ,100000000000000002,' }).BOT_OWNER_IDS).toEqual(['100000000000000001', '100000000000000002']);
    expect(() => load({ BOT_OWNER_IDS: 'alice' })).toThrow('Configuration error: BOT_OWNER_IDS must be comma-separated Discord user ids (17-20 digits each).');
  });

  it('turns the scheduled cleanup off with "off", and explains a bad schedule or timeout', () => {
    expect(load({ CLEANUP_CRON: 'off' }).CLEANUP_CRON).toBe('off');
    expect(() => load({ CLEANUP_CRON: 'nightly' })).toThrow(/CLEANUP_CRON is not a valid cron expression/);
    expect(() => load({ JOB_TIMEOUT_MINUTES: '0' })).toThrow('Configuration error: JOB_TIMEOUT_MINUTES must be at least 0.05 (minutes; fractions such as 0.5 are allowed).');
    expect(() => load({ QUEUE_TIMEOUT_MINUTES: 'an hour' })).toThrow(/QUEUE_TIMEOUT_MINUTES must be a number of minutes/);
    expect(load({ JOB_TIMEOUT_MINUTES: '0.1' }).JOB_TIMEOUT_MINUTES).toBe(0.1);
    expect(() => load({ DELIVERY_GIVE_UP_MINUTES: '0.5' })).toThrow('Configuration error: DELIVERY_GIVE_UP_MINUTES must be at least 1 (minutes; fractions such as 0.5 are allowed).');
  });
});

describe('npm run purge configuration', () => {
  it('needs no Discord token: only the database and the retention, by the same rules', () => {
    expect(loadMaintenanceConfig({} as NodeJS.ProcessEnv)).toEqual({ DATA_DIR: './data', TASK_RETENTION_DAYS: 30, LOG_LEVEL: 'info' });
    expect(loadMaintenanceConfig({ DATABASE_URL: 'postgres://db/x', TASK_RETENTION_DAYS: '7', DISCORD_TOKEN: '' } as NodeJS.ProcessEnv)).toMatchObject({
      DATABASE_URL: 'postgres://db/x',
      TASK_RETENTION_DAYS: 7,
    });
    expect(() => loadMaintenanceConfig({ DATABASE_URL: 'mysql://x' } as NodeJS.ProcessEnv)).toThrow(/DATABASE_URL must start with postgres/);
    expect(() => loadMaintenanceConfig({ TASK_RETENTION_DAYS: '0' } as NodeJS.ProcessEnv)).toThrow(/TASK_RETENTION_DAYS must be at least 1/);
  });
});
