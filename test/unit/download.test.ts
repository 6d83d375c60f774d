// What a result download accepts when a CDN serves everything as application/octet-stream (LegNext's clips): a
// real HTTP server hands out a real MP4, a real AVIF image and an M4A-branded file, all as octet-stream.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadImage, downloadVideo, isMp4 } from '../../src/upstream/download.ts';
import { LegnextProvider } from '../../src/upstream/legnext.ts';
import { makeClip } from '../support/fake-clips.ts';

let server: Server;
let base: string;
const files: Record<string, Buffer> = {};

beforeAll(async () => {
  files['/clip'] = await makeClip('testsrc2=size=64x64:rate=10:duration=1');
  files['/photo'] = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#808080' } }).avif().toBuffer();
  // An audio file's ftyp box (major brand "M4A "), then a little of anything.
  files['/song'] = Buffer.concat([Buffer.from([0, 0, 0, 0x1c]), Buffer.from('ftypM4A \0\0\0\0M4A mp42isom', 'latin1'), Buffer.alloc(64)]);
  server = createServer((req, res) => {
    const body = files[req.url ?? ''];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

const legnext = LegnextProvider.create({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k' });

describe('downloads served as application/octet-stream', () => {
  it('a clip is a video (told by its bytes), but never a result image', async () => {
    expect(isMp4(files['/clip']!)).toBe(true);
    expect((await downloadVideo(legnext, `${base}/clip`)).contentType).toBe('video/mp4');
    await expect(downloadImage(legnext, `${base}/clip`)).rejects.toThrow(/not an image/);
  });

  it('an AVIF image or an M4A file starts with ftyp too, but is not a video', async () => {
    expect(isMp4(files['/photo']!)).toBe(false);
    expect(isMp4(files['/song']!)).toBe(false);
    await expect(downloadVideo(legnext, `${base}/photo`)).rejects.toThrow();
    await expect(downloadVideo(legnext, `${base}/song`)).rejects.toThrow();
  });
});
