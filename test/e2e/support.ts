// Small readers over what the fake Discord saw, and the users, button rows and bot settings the end-to-end
// tests share.
import sharp from 'sharp';
import { expect } from 'vitest';
import { isMp4 } from '../../src/upstream/download.ts';
import { videoDuration } from '../../src/video.ts';
import type { TestDatabase } from '../support/database.ts';
import type { FakeDiscord, FakeInteraction, SeenMessage } from '../support/fake-discord.ts';

export const ALICE = '100000000000000001';
export const BOB = '100000000000000002';

/** The buttons under a grid where the upstream offers them all. */
export const GRID = [
  ['U1', 'U2', 'U3', 'U4', '🔄'],
  ['V1', 'V2', 'V3', 'V4'],
];
/** The buttons under an upscaled image where the upstream offers them all (but Custom Zoom). */
export const AFTER_UPSCALE = [
  ['Vary (Strong)', 'Vary (Subtle)'],
  ['Zoom Out 2x', 'Zoom Out 1.5x'],
  ['⬅️', '➡️', '⬆️', '⬇️'],
  ['Upscale (2x)', 'Upscale (4x)'],
];

/** Button rows with 📋 (the seed, where the relay can tell it) at the end of the last row, as the bot places it. */
export function withSeed(rows: string[][]): string[][] {
  const last = rows.at(-1);
  return last && last.length < 5 ? [...rows.slice(0, -1), [...last, '📋']] : [...rows, ['📋']];
}
/** The simulator's upscale also offers Animate (it makes video; most relays' fakes here do not). */
export const SIMULATOR_AFTER_UPSCALE = [...AFTER_UPSCALE.slice(0, 3), ['Animate (Low motion)', 'Animate (High motion)', 'Manual (Low motion)', 'Manual (High motion)'], ...AFTER_UPSCALE.slice(3)];

/** AceData's upscale: Animate (its /midjourney/videos animates any image), ✏️ Edit (/midjourney/edits) and 📋 too. */
export const ACEDATA_AFTER_UPSCALE = withSeed([[...AFTER_UPSCALE[0]!, 'Edit'], ...SIMULATOR_AFTER_UPSCALE.slice(1)]);

/** A finished video job: its clips are uploaded as video_N_<id>.mp4 (or it failed). */
export const isVideoDelivered = (m: SeenMessage) => m.content.startsWith('❌') || (m.attachments.some((a) => /^video_\d_/.test(a.filename)) && isFinal(m)) || m.content.includes('upload limit');

/** `/draw prompt` sent to the fake Discord by `userId` (Alice unless said), in English. */
export function slashDraw(discord: FakeDiscord, prompt: string, userId = ALICE) {
  return discord.slashCommand({ name: 'draw', options: { prompt }, userId, locale: 'en-US' });
}

/** What points the bot at the fake Discord and registers its commands in the fake's guild. */
export function discordEnv(discord: FakeDiscord): Record<string, string> {
  return { DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, DISCORD_GUILD_ID: discord.guildId };
}

/** A simulator bot polled every 100 ms, with progress edits at most once a second, on the test database. */
export function simulatorEnv(discord: FakeDiscord, db: TestDatabase, stepMs: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...discordEnv(discord),
    SIMULATOR_STEP_MS: String(stepMs),
    POLL_INTERVAL_MS: '100',
    PROGRESS_EDIT_INTERVAL_MS: '1000',
    ...extra,
    ...db.env,
  };
}

/** A bot on a relay (no API key for a relay without one), with progress edits at most once a second. */
export function relayEnv(
  discord: FakeDiscord,
  db: TestDatabase,
  relay: { provider: string; baseUrl: string; apiKey?: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...discordEnv(discord),
    UPSTREAM_PROVIDER: relay.provider,
    UPSTREAM_BASE_URL: relay.baseUrl,
    ...(relay.apiKey !== undefined && { UPSTREAM_API_KEY: relay.apiKey }),
    PROGRESS_EDIT_INTERVAL_MS: '1000',
    ...db.env,
    ...extra,
  };
}

type Button = { type: number; custom_id?: string; label?: string; emoji?: { name?: string } };

/** Button faces row by row: the label, or the emoji when there is no label. */
export function buttonFaces(message: SeenMessage): string[][] {
  return (message.components as Array<{ components: Button[] }>).map((row) => row.components.map((b) => b.label ?? b.emoji?.name ?? '?'));
}

export function customIdOf(message: SeenMessage, face: string): string {
  for (const row of message.components as Array<{ components: Button[] }>) {
    for (const b of row.components) if ((b.label ?? b.emoji?.name) === face && b.custom_id) return b.custom_id;
  }
  throw new Error(`no button "${face}" on message: ${JSON.stringify(buttonFaces(message))}`);
}

/** Only a ❌ (cancel) button: a job still waiting or running, not a result. */
const onlyCancel = (m: SeenMessage) =>
  (m.components as Array<{ components: Button[] }>).every((row) => row.components.every((b) => b.custom_id?.endsWith(':cancel')));

/** A message is final once it carries result buttons or says the job failed (or was cancelled). */
export const isFinal = (m: SeenMessage) => (m.components.length > 0 && !onlyCancel(m)) || m.content.startsWith('❌');

/** Final: buttons, a failure, or an uploaded result (for relays whose upscales have no buttons). */
export const isFinalOrUploaded = (m: SeenMessage) => isFinal(m) || (m.attachments.length > 0 && !m.attachments[0]!.filename.startsWith('preview'));

/** The result (an uploaded grid or single image, with or without buttons) or the failure. */
export const isDelivered = (m: SeenMessage) => m.content.startsWith('❌') || m.attachments.some((a) => /^(grid|image)_/.test(a.filename));

export async function imageInfo(message: SeenMessage) {
  const attachment = message.attachments[0];
  if (!attachment) throw new Error('message has no attachment');
  const meta = await sharp(attachment.bytes).metadata();
  return { filename: attachment.filename, format: meta.format, width: meta.width!, height: meta.height!, bytes: attachment.bytes };
}

/** Every attachment of the message decoded by ffmpeg: its MP4 container checked and its length in seconds. */
export async function clipsOf(message: SeenMessage): Promise<Array<{ bytes: Buffer; seconds: number }>> {
  return Promise.all(
    message.attachments.map(async (a) => {
      expect(a.filename).toMatch(/^video_\d_[0-9a-f]{8}\.mp4$/);
      expect(isMp4(a.bytes)).toBe(true);
      // An MP4 that plays has its index (moov) box; faststart puts it before the media data.
      expect(a.bytes.includes(Buffer.from('moov'))).toBe(true);
      const seconds = await videoDuration(a.bytes);
      expect(seconds).toBeDefined();
      return { bytes: a.bytes, seconds: seconds! };
    }),
  );
}

/** A private answer: the ephemeral reply's text. */
export async function privately(i: FakeInteraction): Promise<string> {
  const message = await i.waitForMessage((m) => m.content.length > 0);
  expect(message.flags & 64).toBe(64);
  return message.content;
}

/** Clicks a video button (Animate, a clip's U1–U4, Extend) as `userId` and waits for its clips, or its failure. */
export const clickVideoOn = async (discord: FakeDiscord, message: SeenMessage, face: string, userId = BOB, locale?: string) =>
  (await discord.clickButton({ message, customId: customIdOf(message, face), userId, locale })).waitForMessage(isVideoDelivered, 60_000);

/** /draw `prompt`, then U1 as Alice: the upscaled image (where video buttons are offered). */
export async function drawAndUpscale(discord: FakeDiscord, prompt: string): Promise<SeenMessage> {
  const grid = await (await slashDraw(discord, prompt)).waitForMessage(isFinal, 20_000);
  return (await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U1'), userId: ALICE })).waitForMessage(isFinal, 20_000);
}

/**
 * Animate (Low motion) on `image`, as a zh-CN user, when the relay fails the video job with
 * 'Video generation failed: moderation': the message says so in Chinese, with the relay's words, and has no clips.
 */
export async function expectVideoFailureExplained(discord: FakeDiscord, image: SeenMessage, prompt: string): Promise<void> {
  const failed = await clickVideoOn(discord, image, 'Animate (Low motion)', BOB, 'zh-CN');
  expect(failed.content).toMatch(new RegExp(`^❌ \\*\\*${prompt}\\*\\* - <@${BOB}> 的动画\\n任务失败：.*Video generation failed: moderation`));
  expect(failed.attachments).toHaveLength(0);
}
