// Video encoding with the FFmpeg binary that ships inside npm (@ffmpeg-installer: the platform package holds it,
// nothing is downloaded at install). Used to assemble the simulator's clips and to shrink a clip that is over
// Discord's upload limit. Work happens in a temporary directory: MP4's index (moov) needs a seekable output.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let cachedPath: string | undefined;

/** The bundled ffmpeg's path (resolved once; throws a clear error where the platform has no binary). */
export function ffmpegPath(): string {
  if (cachedPath) return cachedPath;
  const require = createRequire(import.meta.url);
  cachedPath = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  return cachedPath;
}

/** Runs ffmpeg with `args`, feeding `input` on stdin; rejects with its last words on a non-zero exit. */
export function runFfmpeg(args: string[], input?: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', ...args], { stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stderr) : reject(new Error(`ffmpeg exited with ${code}: ${stderr.slice(-500)}`))));
    if (input) {
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(input);
    }
  });
}

async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'mjbot-video-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** H.264 in MP4 with the index up front, playable inline by Discord's clients. */
const MP4_OUT = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-an'];

/** Encodes raw RGB frames (all `width`×`height`) into an MP4 at `fps`. */
export function encodeFrames(frames: Buffer[], width: number, height: number, fps: number): Promise<Buffer> {
  return inTempDir(async (dir) => {
    const out = join(dir, 'clip.mp4');
    await runFfmpeg(['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0', ...MP4_OUT, '-preset', 'veryfast', '-crf', '23', out], Buffer.concat(frames));
    return readFile(out);
  });
}

/** How long a clip plays, in seconds, as ffmpeg reads it (undefined when it cannot be read as video). */
export async function videoDuration(data: Buffer): Promise<number | undefined> {
  return inTempDir(async (dir) => {
    const file = join(dir, 'in.mp4');
    await writeFile(file, data);
    // `-f null` decodes every frame: an unreadable file fails here.
    const log = await runFfmpeg(['-i', file, '-f', 'null', '-']).catch(() => undefined);
    const m = log && /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(log);
    return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
  });
}

/**
 * Re-encodes a clip to fit `limit` bytes: a bitrate aimed at the limit (with room for the container), the picture
 * scaled down a step at a time. Returns undefined when even the smallest attempt does not fit.
 */
export async function shrinkVideo(data: Buffer, limit: number): Promise<Buffer | undefined> {
  if (data.length <= limit) return data;
  if (limit <= 0) return undefined;
  return inTempDir(async (dir) => {
    const input = join(dir, 'in.mp4');
    await writeFile(input, data);
    const seconds = (await videoDuration(data)) ?? 5;
    // Each step smaller: the picture (capped at 720p) scaled down, fewer frames, a lower bitrate.
    const steps = [{ scale: 1, fps: 0 }, { scale: 0.75, fps: 0 }, { scale: 0.5, fps: 12 }, { scale: 0.35, fps: 8 }];
    for (const [i, step] of steps.entries()) {
      const out = join(dir, `out${i}.mp4`);
      // 80 % of the budget for video bits; the rest is MP4 overhead and the encoder's overshoot.
      const kbps = Math.max(8, Math.floor((limit * 8 * 0.8) / seconds / 1000));
      const filters = [`scale=-2:'2*trunc(min(720,ih)*${step.scale}/2)'`, ...(step.fps ? [`fps=${step.fps}`] : [])];
      await runFfmpeg(['-y', '-i', input, '-vf', filters.join(','), ...MP4_OUT, '-preset', 'veryfast', '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`, out]);
      const shrunk = await readFile(out);
      if (shrunk.length <= limit) return shrunk;
    }
    return undefined;
  });
}
