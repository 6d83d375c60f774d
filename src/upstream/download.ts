// Upstream images are fetched once, streamed with a size cap and a timeout, and checked to be images,
// then re-uploaded to Discord (upstream links expire).
import { INPUT_IMAGE_MAX_BYTES, UpstreamRejected, type DownloadedImage, type InputImage, type Provider } from './provider.ts';

export const MAX_DOWNLOAD_BYTES = 32 * 1024 * 1024;
const TIMEOUT_MS = 60_000;

export class DownloadError extends Error {}

export async function httpDownload(url: string, maxBytes = MAX_DOWNLOAD_BYTES, timeoutMs = TIMEOUT_MS, kind: 'image' | 'video' = 'image'): Promise<DownloadedImage> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new DownloadError(`refusing to download ${parsed.protocol} URL`);
  const res = await fetch(parsed, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  if (!res.ok || !res.body) throw new DownloadError(`image download failed: HTTP ${res.status}`);
  const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  // CDNs often serve clips as application/octet-stream: a video is checked by its bytes instead (isMp4).
  if (kind === 'image' && !contentType.startsWith('image/')) throw new DownloadError(`not an image: ${contentType || 'no content type'}`);
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) throw new DownloadError('image too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    if (size > maxBytes) throw new DownloadError('image too large');
    chunks.push(Buffer.from(chunk));
  }
  return { data: Buffer.concat(chunks), contentType };
}

/**
 * An image a user attached, fetched from Discord's CDN for a relay that wants its bytes (size-capped, images
 * only); a link that no longer works refuses the job with a sentence asking to attach it again.
 */
export async function downloadInput(image: InputImage): Promise<DownloadedImage> {
  try {
    return await httpDownload(image.url, INPUT_IMAGE_MAX_BYTES, 30_000);
  } catch (err) {
    if (err instanceof DownloadError || err instanceof TypeError || (err as Error).name === 'TimeoutError') throw new UpstreamRejected('images:errors.downloadFailed');
    throw err;
  }
}

/**
 * Images the provider serves itself come from it; everything else over HTTP. Either way an image: a provider's
 * download also serves its clips (LegNext: an MP4 told by its bytes), which must not pass as a result image.
 */
export async function downloadImage(provider: Provider, url: string): Promise<DownloadedImage> {
  const image = provider.download ? await provider.download(url) : await httpDownload(url);
  if (!image.contentType.startsWith('image/')) throw new DownloadError(`not an image: ${image.contentType || 'no content type'}`);
  return image;
}

/**
 * Brands of ISO BMFF files that are not video: HEIF/AVIF images (and their still sequences) and M4A/M4B/M4P/F4A/F4B
 * audio also start with an `ftyp` box (ISO/IEC 23008-12, 23000-22; Apple's and Adobe's brands).
 */
const NOT_VIDEO_BRANDS = new Set(['avif', 'avis', 'avci', 'avcs', 'heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'mif2', 'msf1', 'M4A ', 'M4B ', 'M4P ', 'F4A ', 'F4B ']);

/** An MP4 (ISO BMFF) file starts with its `ftyp` box, whose major brand is not one of an image or audio file. */
export const isMp4 = (data: Buffer) =>
  data.length > 12 && data.subarray(4, 8).toString('latin1') === 'ftyp' && !NOT_VIDEO_BRANDS.has(data.subarray(8, 12).toString('latin1'));

/** A clip of a video job, from the provider itself or over HTTP; refused unless it is an MP4. */
export async function downloadVideo(provider: Provider, url: string): Promise<DownloadedImage> {
  const clip = provider.download ? await provider.download(url) : await httpDownload(url, MAX_DOWNLOAD_BYTES, TIMEOUT_MS, 'video');
  if (!isMp4(clip.data)) throw new DownloadError(`not an MP4 video (${clip.contentType || 'no content type'})`);
  return { data: clip.data, contentType: 'video/mp4' };
}
