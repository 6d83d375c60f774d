// The editor's mask check: a PNG of the image's size with something marked, made strictly black and white.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readMask } from '../../src/editor/service.ts';

const png = (width: number, height: number, white?: { left: number; top: number; width: number; height: number }) =>
  sharp({ create: { width, height, channels: 3, background: '#000' } })
    .composite(white ? [{ input: { create: { width: white.width, height: white.height, channels: 3, background: '#fff' } }, left: white.left, top: white.top }] : [])
    .png()
    .toBuffer();

describe('readMask', () => {
  it('takes a data URL or bare base64 of a PNG of the image size, and counts the white pixels', async () => {
    const mask = await png(40, 30, { left: 5, top: 6, width: 10, height: 4 });
    for (const posted of [`data:image/png;base64,${mask.toString('base64')}`, mask.toString('base64')]) {
      const read = await readMask(posted, { width: 40, height: 30 });
      expect(read).toMatchObject({ info: { width: 40, height: 30, white: 40 } });
      if ('png' in read) expect((await sharp(read.png).metadata()).format).toBe('png');
    }
  });

  it('refuses another size, an empty mask, a JPEG and garbage, each with its own message', async () => {
    const size = await readMask((await png(40, 31, { left: 0, top: 0, width: 5, height: 5 })).toString('base64'), { width: 40, height: 30 });
    expect(size).toEqual({ error: 'editor:errors.maskSize', vars: { width: 40, height: 31, expectedWidth: 40, expectedHeight: 30 } });
    expect(await readMask((await png(40, 30)).toString('base64'), { width: 40, height: 30 })).toEqual({ error: 'editor:errors.emptyMask' });
    const jpeg = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#fff' } }).jpeg().toBuffer();
    expect(await readMask(jpeg.toString('base64'), { width: 40, height: 30 })).toEqual({ error: 'editor:errors.badMask' });
    expect(await readMask('not base64!', { width: 40, height: 30 })).toEqual({ error: 'editor:errors.badMask' });
    expect(await readMask('', { width: 40, height: 30 })).toEqual({ error: 'editor:errors.badMask' });
  });
});
