// Real video for the relay fakes: H.264 MP4 clips made by the ffmpeg that ships in npm (@ffmpeg-installer/ffmpeg).
import { spawn } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';

/** A real H.264 MP4 from an ffmpeg test source (e.g. `testsrc2=…`), written to stdout as fragmented MP4. */
export function makeClip(source: string): Promise<Buffer> {
  const ffmpeg = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  return new Promise((resolve, reject) => {
    const args = ['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', source, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', 'frag_keyframe+empty_moov', '-f', 'mp4', 'pipe:1'];
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg exited with ${code}`))));
  });
}

/** Seconds of a fake clip, and what an Extend adds (short: the tests only need "longer"). */
export const CLIP_SECONDS = 2;
export const EXTEND_SECONDS = 1;

/** A fake video job's clips: how long, and which test pattern each shows (an Extend keeps its clip's). */
export interface FakeVideo {
  seconds: number;
  patterns: number[];
}

/** ffmpeg's moving test pattern, tinted per clip of a batch so the clips differ. */
const pattern = (clip: number, seconds: number) => `testsrc2=size=320x240:rate=10:duration=${seconds},hue=h=${(clip - 1) * 90}`;

/** Serves clip `n` (from 1) of `video` as a real MP4, or 404 when there is none. */
export async function sendClip(res: ServerResponse, video: FakeVideo | undefined, n: number): Promise<void> {
  if (!video || !(n >= 1 && n <= video.patterns.length)) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    return;
  }
  const data = await makeClip(pattern(video.patterns[n - 1]!, video.seconds));
  // CDNs often serve clips as octet-stream: the bot must check the bytes, not the header.
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length }).end(data);
}
