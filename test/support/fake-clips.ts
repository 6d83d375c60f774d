// Real video for the relay fakes: H.264 MP4 clips made by the ffmpeg that ships in npm (@ffmpeg-installer/ffmpeg).
import { spawn } from 'node:child_process';
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
