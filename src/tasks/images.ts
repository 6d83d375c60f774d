// Discord refuses uploads over the attachment limit (10 MiB by default): shrink only when needed.
import sharp from '../sharp.ts';
import type { DownloadedImage } from '../upstream/provider.ts';

export const DISCORD_UPLOAD_LIMIT = 10 * 1024 * 1024;

/**
 * The per-file limit an interaction told (`attachment_size_limit`), if it is believable: Discord's run from 10 MiB
 * to 500 MiB (Nitro). Missing, under 32 KiB (0 would shrink every image to a thumbnail and leave every clip out),
 * over 1 GiB (more than the integer column holds, at 2^31) or not a whole number: not trusted, null, so
 * DISCORD_UPLOAD_LIMIT is assumed and a 413 still lowers it.
 */
export function toldUploadLimit(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 32 * 1024 && value <= 1024 * 1024 * 1024 ? value : null;
}

const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };
export const extensionFor = (contentType: string) => EXT[contentType] ?? 'png';

export async function fitUploadLimit(image: DownloadedImage, limit = DISCORD_UPLOAD_LIMIT): Promise<DownloadedImage> {
  if (image.data.length <= limit) return image;
  const meta = await sharp(image.data).metadata();
  let width = meta.width ?? 4096;
  // Re-encode as JPEG, then step the size down until it fits.
  for (let quality = 90; ; quality = Math.max(60, quality - 10), width = Math.round(width * 0.8)) {
    const data = await sharp(image.data).resize({ width, withoutEnlargement: true }).jpeg({ quality, mozjpeg: true }).toBuffer();
    if (data.length <= limit || width < 256) return { data, contentType: 'image/jpeg' };
  }
}
