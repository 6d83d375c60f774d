// Discord refuses uploads over the attachment limit (10 MiB by default): shrink only when needed.
import sharp from '../sharp.ts';
import type { DownloadedImage } from '../upstream/provider.ts';

export const DISCORD_UPLOAD_LIMIT = 10 * 1024 * 1024;

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
