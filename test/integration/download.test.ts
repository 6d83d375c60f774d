// Image downloads from relays: http(s) only, a size cap (also without Content-Length), a timeout and an image
// content type — against a real HTTP server that misbehaves in each of those ways.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DownloadError, httpDownload } from '../../src/upstream/download.ts';

const PNG = Buffer.from('89504e470d0a1a0a', 'hex');
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ok.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    if (req.url === '/page') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
    if (req.url === '/announced-huge') return void res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(10_000_000) }).end();
    if (req.url === '/streamed-huge') {
      // No Content-Length: the cap must be enforced while reading.
      res.writeHead(200, { 'content-type': 'image/png' });
      const chunk = Buffer.alloc(64 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 2_000_000 && res.write(chunk)) sent += chunk.length;
        if (sent < 2_000_000) res.once('drain', pump);
        else res.end();
      };
      return void pump();
    }
    if (req.url === '/slow') return void res.writeHead(200, { 'content-type': 'image/png' }); // never ends
    if (req.url === '/gone') return void res.writeHead(404).end();
    res.writeHead(302, { location: 'file:///etc/passwd' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('httpDownload', () => {
  it('downloads an image', async () => {
    expect(await httpDownload(`${base}/ok.png`)).toEqual({ data: PNG, contentType: 'image/png' });
  });

  it.each([
    ['a page that is not an image', '/page', 'not an image: text/html'],
    ['a body announced over the cap', '/announced-huge', 'image too large'],
    ['a body over the cap without Content-Length', '/streamed-huge', 'image too large'],
    ['an error status', '/gone', 'image download failed: HTTP 404'],
  ])('refuses %s', async (_what, path, message) => {
    await expect(httpDownload(`${base}${path}`, 1_000_000)).rejects.toThrow(message);
  });

  it('gives up on a server that never finishes', async () => {
    await expect(httpDownload(`${base}/slow`, 1_000_000, 300)).rejects.toThrow(/aborted|timeout/i);
  });

  it('refuses anything but http(s), directly or through a redirect', async () => {
    await expect(httpDownload('file:///etc/passwd')).rejects.toBeInstanceOf(DownloadError);
    await expect(httpDownload(`${base}/redirect`)).rejects.toThrow();
  });
});
