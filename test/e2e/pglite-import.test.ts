// Upgrading from the PGlite default: a DATA_DIR holding DATA_DIR/pglite (made here as the previous version made
// it: the same migrations, a few rows) and no PostgreSQL yet. The bot's first start imports the rows once, logs
// how many came over, and keeps the old folder renamed; the imported ban and settings take effect.
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, openDatabase } from '../../src/db/client.ts';
import * as schema from '../../src/db/schema.ts';
import { startBot, type BotProcess } from '../support/bot.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { ALICE, BOB, discordEnv, slashDraw } from './support.ts';

const TASK_ID = '6d6a0000-0000-4000-8000-000000000001';
let discord: FakeDiscord;
let parent: string;
let dataDir: string;
let bot: BotProcess | undefined;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  parent = await mkdtemp(path.join(os.tmpdir(), 'mjbot-import-'));
  await chmod(parent, 0o755); // run as root, the server's user must reach DATA_DIR
  dataDir = path.join(parent, 'data');
  await mkdir(dataDir);
  const pglite = await PGlite.create(path.join(dataDir, 'pglite'));
  const db = drizzle(pglite, { schema });
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  await db.insert(schema.tasks).values([
    { id: TASK_ID, guildId: discord.guildId, channelId: discord.channelId, userId: ALICE, action: 'imagine', prompt: 'an old cat', promptUpstream: 'an old cat', provider: 'simulator', status: 'succeeded', imageUrls: ['https://example.com/a.png'], actions: ['upscale:1'], createdAt: new Date(Date.now() - 86_400_000) },
    { id: '6d6a0000-0000-4000-8000-000000000002', channelId: discord.channelId, userId: ALICE, action: 'upscale:1', parentId: TASK_ID, prompt: 'an old cat', promptUpstream: 'an old cat', provider: 'simulator', status: 'failed', failReason: 'errors.timeout' },
  ]);
  await db.insert(schema.userBans).values([
    { guildId: discord.guildId, userId: BOB, bannedBy: ALICE, reason: 'spam' },
    { guildId: null, userId: '100000000000000009', bannedBy: ALICE },
  ]);
  await db.insert(schema.guildSettings).values({ guildId: discord.guildId, dailyQuota: 50, userDailyQuota: 7, updatedBy: ALICE });
  await db.insert(schema.userSettings).values({ userId: ALICE, mode: 'relax', aspectRatio: '16:9' });
  await pglite.close();
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await discord?.close();
  await rm(parent, { recursive: true, force: true });
});

describe('the first start on a DATA_DIR of the PGlite default', () => {
  it('imports tasks, bans and settings once, logs the counts and keeps the old folder renamed', async () => {
    bot = await startBot({ ...discordEnv(discord), DATA_DIR: dataDir });
    const imported = bot.logs.find((l) => l.msg === 'imported the PGlite database of the previous version');
    expect(imported).toMatchObject({ tasks: 2, user_bans: 2, guild_settings: 1, user_settings: 1 });
    expect(existsSync(path.join(dataDir, 'pglite'))).toBe(false);
    const kept = readdirSync(dataDir).filter((n) => n.startsWith('pglite.imported-'));
    expect(kept).toHaveLength(1);
    expect(existsSync(path.join(dataDir, kept[0]!, 'PG_VERSION'))).toBe(true);

    // The rows, read from the bot's running server (as `npm run purge` would reach it).
    const database = await openDatabase({ dataDir });
    try {
      const [task] = await database.db.select().from(schema.tasks).where(eq(schema.tasks.id, TASK_ID));
      expect(task).toMatchObject({ prompt: 'an old cat', status: 'succeeded', imageUrls: ['https://example.com/a.png'], actions: ['upscale:1'], userId: ALICE });
      expect(task!.createdAt.getTime()).toBeLessThan(Date.now() - 86_000_000);
      expect(await database.db.select().from(schema.userSettings)).toMatchObject([{ userId: ALICE, mode: 'relax', aspectRatio: '16:9' }]);
      expect(await database.db.select().from(schema.guildSettings)).toMatchObject([{ dailyQuota: 50, userDailyQuota: 7 }]);
      // New bans go on after the imported ids.
      const [ban] = await database.db.insert(schema.userBans).values({ guildId: discord.guildId, userId: '100000000000000008', bannedBy: ALICE }).returning();
      expect(ban!.id).toBe(3);
    } finally {
      await database.close();
    }

    // The imported ban holds: Bob is refused.
    const refused = await slashDraw(discord, 'a new cat', BOB);
    const reply = await refused.waitForMessage(() => true, 10_000);
    expect(reply.content).toBe('You are not allowed to start drawing jobs here.');
  }, 60_000);

  it('does not import again on the next start', async () => {
    await bot!.stop();
    bot = await startBot({ ...discordEnv(discord), DATA_DIR: dataDir });
    expect(bot.logs.some((l) => /PGlite/.test(l.msg))).toBe(false);
  }, 30_000);
});
