// Attachments for the image-input end-to-end files (/draw image prompts, /blend, /describe): small real
// pictures, a PDF and an oversized file, and readers for the bot's private refusals.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runFfmpeg } from '../../src/video.ts';
import { expect } from 'vitest';
import type { FakeDiscord } from '../support/fake-discord.ts';
import type { FakeInteraction } from '../support/discord-interaction.ts';
import { ALICE } from './support.ts';

const EPHEMERAL = 64;

export interface Upload {
  filename: string;
  bytes: Buffer;
  contentType: string;
}

/** A small PNG of one colour. */
export async function png(name: string, r = 200, g = 80, b = 40): Promise<Upload> {
  const bytes = await sharp({ create: { width: 48, height: 32, channels: 3, background: { r, g, b } } }).png().toBuffer();
  return { filename: name, bytes, contentType: 'image/png' };
}

export const pdf = (): Upload => ({ filename: 'notes.pdf', bytes: Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n'), contentType: 'application/pdf' });

/** Over the 8 MiB cap: a PNG signature followed by padding. */
export const oversized = (): Upload => ({
  filename: 'huge.png',
  bytes: Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(8 * 1024 * 1024 + 1)]),
  contentType: 'image/png',
});

/** The bot's immediate private reply (a refusal). */
export async function refusal(interaction: FakeInteraction): Promise<string> {
  const callback = await interaction.waitForCallback();
  expect(callback).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
  return String(callback.data!.content);
}

type Options = Record<string, string | boolean | Upload>;

export const slash = (discord: FakeDiscord, name: string, options: Options, opts: { userId?: string; unchecked?: boolean; locale?: string } = {}) =>
  discord.slashCommand({ name, options, userId: opts.userId ?? ALICE, locale: opts.locale ?? 'en-US', unchecked: opts.unchecked });

/** `image1..imageN` (blend) or `image, image2..` (draw) from a list of uploads. */
export function imageOptions(uploads: Upload[], style: 'blend' | 'draw'): Options {
  return Object.fromEntries(uploads.map((u, i) => [style === 'blend' ? `image${i + 1}` : i === 0 ? 'image' : `image${i + 1}`, u]));
}

/** The four suggested prompts of a /describe result, in order. */
export function suggestedPrompts(content: string): string[] {
  return [...content.matchAll(/^[1-4]️⃣ (.+)$/gmu)].map((m) => m[1]!);
}

/** Two colours side by side (left | right): a picture whose frames differ as the window pans across it. */
export async function split(name: string, left: [number, number, number], right: [number, number, number]): Promise<Upload> {
  const half = (c: [number, number, number]) => sharp({ create: { width: 64, height: 64, channels: 3, background: { r: c[0], g: c[1], b: c[2] } } }).png().toBuffer();
  const bytes = await sharp({ create: { width: 128, height: 64, channels: 3, background: '#000' } })
    .composite([{ input: await half(left), left: 0, top: 0 }, { input: await half(right), left: 64, top: 0 }])
    .png()
    .toBuffer();
  return { filename: name, bytes, contentType: 'image/png' };
}

/** The mean colour of the middle of a clip's first or last frame, decoded by ffmpeg. */
export async function frameColour(clip: Buffer, which: 'first' | 'last'): Promise<[number, number, number]> {
  const dir = await mkdtemp(join(tmpdir(), 'animate-test-'));
  try {
    await writeFile(join(dir, 'in.mp4'), clip);
    const filters = [...(which === 'last' ? ['reverse'] : []), 'crop=iw/2:ih/2', 'scale=1:1:flags=area'];
    await runFfmpeg(['-i', join(dir, 'in.mp4'), '-vf', filters.join(','), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', join(dir, 'out.raw')]);
    const rgb = await readFile(join(dir, 'out.raw'));
    return [rgb[0]!, rgb[1]!, rgb[2]!];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Whether two colours are within `tolerance` on every channel. */
export const near = (a: readonly number[], b: readonly number[], tolerance = 12) => a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);
