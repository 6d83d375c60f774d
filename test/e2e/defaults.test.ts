// The out-of-the-box experience: only DISCORD_TOKEN and DISCORD_API_URL, default timings, run from a fresh
// directory. The bot must start its own PostgreSQL server with its data in ./data, register /draw globally and
// serve a whole session on the simulator at its real (unhurried) pace.
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { buttonFaces, customIdOf, isFinal } from './support.ts';

let discord: FakeDiscord;
let bot: BotProcess;
let cwd: string;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  cwd = await mkdtemp(path.join(os.tmpdir(), 'mjbot-defaults-'));
  // Run as root, the bot runs its PostgreSQL as an unprivileged user, who must reach ./data (mkdtemp: 0700).
  await chmod(cwd, 0o755);
  bot = await startBot({ DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl }, { cwd });
});

afterAll(async () => {
  await bot?.stop();
  await discord?.close();
  await rm(cwd, { recursive: true, force: true });
});

describe('defaults', () => {
  it('starts its embedded PostgreSQL in ./data, warns that images are placeholders, registers /draw globally', async () => {
    expect(existsSync(path.join(cwd, 'data', 'postgres', 'PG_VERSION'))).toBe(true);
    expect(bot.logs.find((l) => l.msg === 'database ready')?.database).toBe('embedded');
    // The generated password is for the bot's user alone.
    expect(statSync(path.join(cwd, 'data', 'postgres.password')).mode & 0o777).toBe(0o600);
    expect(bot.logs.some((l) => l.level === 40 && /PLACEHOLDERS/.test(l.msg))).toBe(true);
    const cmd = await discord.waitForCommand('draw');
    expect(cmd.guild_id).toBeUndefined();
    expect(bot.logs.find((l) => l.msg === 'bot ready')?.startupMs).toBeTypeOf('number');
  });

  it('serves draw → U2 → Zoom Out 2x at the default pace with zero schema violations', { timeout: 90_000 }, async () => {
    const imagine = await discord.slashCommand({ name: 'draw', options: { prompt: 'a cute cat --ar 16:9' } });
    const grid = await imagine.waitForMessage(isFinal, 30_000);
    expect(imagine.edits().some((e) => /\(\d+%\)$/.test(e.message.content) && e.message.attachments.length === 1)).toBe(true);
    // Default throttle: progress edits at least 3 s apart.
    const progress = imagine.edits().filter((e) => /\(\d+%\)$/.test(e.message.content));
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.at - progress[i - 1]!.at).toBeGreaterThanOrEqual(2_950);
    const u2 = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U2') });
    const single = await u2.waitForMessage(isFinal, 30_000);
    expect(buttonFaces(single)).toContainEqual(['Zoom Out 2x', 'Zoom Out 1.5x']);
    const zoom = await discord.clickButton({ message: single, customId: customIdOf(single, 'Zoom Out 2x') });
    const zoomed = await zoom.waitForMessage(isFinal, 30_000);
    expect(buttonFaces(zoomed)[0]).toEqual(['U1', 'U2', 'U3', 'U4', '🔄']);
    discord.assertNoViolations();
  });
});
