// Each user's /settings are read from memory on every /draw: what one instance saves, another must hear of at
// once (PostgreSQL LISTEN/NOTIFY), and a value set back to the default takes no memory. Two instances on one
// PostgreSQL database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { postgresNotifications } from '../../src/db/notify.ts';
import { createLogger } from '../../src/log.ts';
import { UserSettingsRepo } from '../../src/settings/repo.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let testDb: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await testDb.open();
});
afterAll(async () => {
  await database?.close();
  await testDb?.destroy();
});

describe('user settings in memory', () => {
  it('saves, reads back from memory, and loads what an earlier run saved', async () => {
    const repo = new UserSettingsRepo(database.db);
    await repo.start();
    expect(repo.get('s1')).toEqual({ mode: null, aspectRatio: null, version: null, remix: false });
    expect(await repo.update('s1', { mode: 'relax' })).toEqual({ mode: 'relax', aspectRatio: null, version: null, remix: false });
    expect(await repo.update('s1', { aspectRatio: '16:9' })).toEqual({ mode: 'relax', aspectRatio: '16:9', version: null, remix: false });
    expect(await repo.update('s1', { version: 'niji 7', remix: false })).toEqual({ mode: 'relax', aspectRatio: '16:9', version: 'niji 7', remix: false });
    expect(repo.get('s1')).toEqual({ mode: 'relax', aspectRatio: '16:9', version: 'niji 7', remix: false });
    expect(await repo.update('s1', { remix: true })).toEqual({ mode: 'relax', aspectRatio: '16:9', version: 'niji 7', remix: true });
    const restarted = new UserSettingsRepo(database.db);
    await restarted.start();
    expect(restarted.get('s1')).toEqual({ mode: 'relax', aspectRatio: '16:9', version: 'niji 7', remix: true });
  });

  it('reach another instance at once', async () => {
    const log = createLogger('silent');
    const other = await testDb.open();
    const notifications = postgresNotifications(testDb.env.DATABASE_URL!, log);
    try {
      const here = new UserSettingsRepo(database.db);
      const there = new UserSettingsRepo(other.db);
      await Promise.all([here.start(), there.start(notifications, log)]);
      await here.update('s2', { mode: 'turbo', aspectRatio: '2:3', version: '7' });
      await expect.poll(() => there.get('s2')).toEqual({ mode: 'turbo', aspectRatio: '2:3', version: '7', remix: false });
      await here.update('s2', { mode: null, aspectRatio: null, version: null, remix: false });
      await expect.poll(() => there.get('s2')).toEqual({ mode: null, aspectRatio: null, version: null, remix: false });
    } finally {
      await notifications.close();
      await other.close();
    }
  });
});
