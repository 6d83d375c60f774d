// Real placeholder images for the simulator: distinct per job (seed) and per quadrant, the prompt drawn on
// them, at the aspect ratio the prompt asks for. Rendered from SVG by sharp.
import { createHash } from 'node:crypto';
import sharp from '../sharp.ts';
import { encodeFrames } from '../video.ts';

export interface ImageSpec {
  seed: number;
  prompt: string;
  /** Aspect ratio as width/height factors (see prompt/aspectRatio). */
  ratio: { w: number; h: number };
  /** A short caption naming the action that made the image (e.g. "Zoom Out 2x"). */
  label: string;
}

function rand(seed: number, salt: string): number {
  const h = createHash('sha256').update(`${seed}:${salt}`).digest();
  return h.readUInt32BE(0) / 0xffffffff;
}

function hsl(seed: number, salt: string, l: number): string {
  return `hsl(${Math.round(rand(seed, salt) * 360)},${55 + Math.round(rand(seed, salt + 's') * 30)}%,${l}%)`;
}

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

function wrap(text: string, perLine: number, maxLines: number): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const next = line ? `${line} ${word}` : word;
    if (next.length > perLine && line) {
      lines.push(line);
      line = word.slice(0, perLine);
    } else line = next.slice(0, perLine);
    if (lines.length === maxLines) break;
  }
  if (line && lines.length < maxLines) lines.push(line);
  if (lines.length === maxLines && words.join(' ').length > lines.join(' ').length) {
    lines[maxLines - 1] = `${lines[maxLines - 1]!.slice(0, perLine - 1)}…`;
  }
  return lines;
}

/** One picture as an SVG fragment at (x0, y0), size w×h: a gradient, a few shapes placed by the seed, the prompt. */
function tile(spec: ImageSpec, quadrant: number, x0: number, y0: number, w: number, h: number): string {
  // A nested <svg> clips its content, so shapes never spill into the neighbouring quadrant.
  const x = 0;
  const y = 0;
  const { seed } = spec;
  const id = `g${quadrant}`;
  const q = `q${quadrant}`;
  const shapes = Array.from({ length: 5 }, (_, i) => {
    const cx = x + rand(seed, `${q}cx${i}`) * w;
    const cy = y + rand(seed, `${q}cy${i}`) * h;
    const r = (0.08 + rand(seed, `${q}r${i}`) * 0.22) * Math.min(w, h);
    return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${r.toFixed(1)}" fill="${hsl(seed, `${q}c${i}`, 60)}" fill-opacity="0.55"/>`;
  }).join('');
  const font = Math.max(12, Math.round(Math.min(w, h) / 16));
  const lines = wrap(spec.prompt, Math.max(8, Math.floor(w / (font * 0.6))), 5);
  const text = lines
    .map((l, i) => `<tspan x="${x + font}" dy="${i === 0 ? 0 : font * 1.25}">${escapeXml(l)}</tspan>`)
    .join('');
  return (
    `<svg x="${x0}" y="${y0}" width="${w}" height="${h}">` +
    `<defs><linearGradient id="${id}" x1="0" y1="0" x2="1" y2="1">` +
    `<stop offset="0" stop-color="${hsl(seed, `${q}a`, 35)}"/><stop offset="1" stop-color="${hsl(seed, `${q}b`, 20)}"/>` +
    `</linearGradient></defs>` +
    `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="url(#${id})"/>${shapes}` +
    `<text y="${y + h - font * (lines.length + 1.5)}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#fff" fill-opacity="0.92">${text}</text>` +
    `<text x="${x + w - font}" y="${y + font * 1.6}" text-anchor="end" font-family="DejaVu Sans, sans-serif" font-size="${font}" font-weight="bold" fill="#fff">${escapeXml(spec.label)} · ${quadrant}</text></svg>`
  );
}

function dims(ratio: ImageSpec['ratio'], longSide: number): { w: number; h: number } {
  const scale = longSide / Math.max(ratio.w, ratio.h);
  return { w: Math.round(ratio.w * scale), h: Math.round(ratio.h * scale) };
}

function svg(w: number, h: number, body: string): Buffer {
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${body}</svg>`);
}

/** The 2×2 grid, quadrants numbered 1–4 left-to-right, top-to-bottom like Midjourney's U1–U4. */
export function gridSvg(spec: ImageSpec, longSide = 1024): Buffer {
  const { w, h } = dims(spec.ratio, longSide);
  const tw = Math.floor(w / 2);
  const th = Math.floor(h / 2);
  const tiles = [0, 1, 2, 3].map((i) => tile(spec, i + 1, (i % 2) * tw, Math.floor(i / 2) * th, tw, th));
  return svg(tw * 2, th * 2, tiles.join(''));
}

export async function renderGrid(spec: ImageSpec): Promise<Buffer> {
  return sharp(gridSvg(spec)).png().toBuffer();
}

/** One quadrant on its own, as U1–U4 (and the upscalers, larger) return it. */
function singleSvg(spec: ImageSpec, quadrant: number, longSide: number): Buffer {
  const { w, h } = dims(spec.ratio, longSide);
  return svg(w, h, tile(spec, quadrant, 0, 0, w, h));
}

export async function renderSingle(spec: ImageSpec, quadrant: number, longSide = 1024): Promise<Buffer> {
  const image = sharp(singleSvg(spec, quadrant, longSide));
  // Big upscales as JPEG so they stay well under Discord's upload limit.
  return longSide > 2048 ? image.jpeg({ quality: 88 }).toBuffer() : image.png().toBuffer();
}

/**
 * A small, blurred preview that sharpens as progress grows, like Midjourney's in-progress images. 384 px and JPEG:
 * about 16 ms of CPU, where 512 px WebP took 40–50 ms (most of it the WebP encoder), and every running job shows a
 * few of them (bench/README.md).
 */
export async function renderPreview(spec: ImageSpec, progress: number, quadrant?: number): Promise<Buffer> {
  const source = quadrant ? singleSvg(spec, quadrant, PREVIEW_SIZE) : gridSvg(spec, PREVIEW_SIZE);
  const sigma = Math.max(0.3, 9 * (1 - progress / 100));
  return sharp(source).blur(sigma).jpeg({ quality: 70 }).toBuffer();
}

const PREVIEW_SIZE = 384;

/** What a simulated clip shows: the upscaled image, panned and zoomed (more with high motion), frame by frame. */
export interface ClipSpec {
  /** The clip of its batch (1–4): each moves its own way. */
  clip: number;
  seconds: number;
  motion: 'low' | 'high';
}

/** Frames per second of the simulator's clips: few, so a clip is small and quick to encode. */
const CLIP_FPS = 12;
/** The clip's long side; even dimensions, as H.264 in 4:2:0 requires. */
const CLIP_LONG_SIDE = 480;

/** An uploaded picture to animate instead of a drawn one (/animate): the first frame, and maybe the last. */
export interface ClipSource {
  image: Buffer;
  /** The frame to end on: the clip fades into it over its last third. */
  end?: Buffer;
  /** End where it started (the window's path returns to its start), so the clip loops. */
  loop?: boolean;
}

/**
 * A short, real MP4 (H.264) of one quadrant of the job's image, drawn as the stills are — or of an uploaded
 * picture (`source`), captioned with the label.
 */
export async function renderClip(spec: ImageSpec, quadrant: number, clip: ClipSpec, source?: ClipSource): Promise<Buffer> {
  const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);
  const { w: rw, h: rh } = dims(spec.ratio, CLIP_LONG_SIDE);
  const [w, h] = [even(rw), even(rh)];
  // The still, drawn larger than the frame, so every frame is a window moving across it.
  const zoomRoom = clip.motion === 'high' ? 1.5 : 1.2;
  const bigW = Math.round(w * zoomRoom);
  const bigH = Math.round(h * zoomRoom);
  const caption = `${spec.label} · clip ${clip.clip}`;
  // An uploaded picture is captioned as what it is (the same on its batch, its pick and its Extends).
  const base = source
    ? await sharp(source.image).resize(bigW, bigH, { fit: 'cover' }).composite([{ input: captionSvg(bigW, bigH, `Animate · clip ${clip.clip}`) }]).removeAlpha().raw().toBuffer()
    : await sharp(svg(bigW, bigH, tile({ ...spec, label: caption }, quadrant, 0, 0, bigW, bigH))).removeAlpha().raw().toBuffer();
  const still = sharp(base, { raw: { width: bigW, height: bigH, channels: 3 } });
  const end = source?.end && (await sharp(source.end).resize(w, h, { fit: 'cover' }).removeAlpha().raw().toBuffer());
  const count = Math.max(2, Math.round(clip.seconds * CLIP_FPS));
  // Each clip of a batch pans toward its own corner.
  const dirX = clip.clip % 2 === 1 ? 1 : -1;
  const dirY = clip.clip <= 2 ? 1 : -1;
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    // A slow back-and-forth: an extended clip keeps moving instead of freezing at the edge. A loop makes exactly
    // one round trip, so its last frame is its first.
    const phase = source?.loop ? (1 - Math.cos((2 * Math.PI * i) / (count - 1))) / 2 : (1 - Math.cos((i / CLIP_FPS) * 0.9)) / 2;
    const x = Math.round(((bigW - w) / 2) * (1 + dirX * phase));
    const y = Math.round(((bigH - h) / 2) * (1 + dirY * phase));
    const frame = await still.clone().extract({ left: Math.min(bigW - w, x), top: Math.min(bigH - h, y), width: w, height: h }).raw().toBuffer();
    frames.push(end ? fadeInto(frame, end, (i - (count * 2) / 3) / (count - 1 - (count * 2) / 3)) : frame);
  }
  return encodeFrames(frames, w, h, CLIP_FPS);
}

/** The label in a corner of an uploaded picture, as on the drawn ones. */
function captionSvg(w: number, h: number, text: string): Buffer {
  const font = Math.max(12, Math.round(Math.min(w, h) / 16));
  return svg(w, h, `<text x="${w - font}" y="${font * 1.6}" text-anchor="end" font-family="DejaVu Sans, sans-serif" font-size="${font}" font-weight="bold" fill="#fff" stroke="#000" stroke-width="1">${escapeXml(text)}</text>`);
}

/** `frame` blended toward `end` (raw RGB of the same size) by `amount` (clamped to 0–1). */
function fadeInto(frame: Buffer, end: Buffer, amount: number): Buffer {
  const a = Math.min(1, Math.max(0, amount));
  if (a === 0) return frame;
  const out = Buffer.alloc(frame.length);
  for (let i = 0; i < frame.length; i++) out[i] = Math.round(frame[i]! * (1 - a) + end[i]! * a);
  return out;
}

/** A mask as small as it can be stored (1-bit greyscale PNG), white where its source is at least half white. */
export async function compactMask(mask: Buffer): Promise<Buffer> {
  return sharp(mask).flatten({ background: '#000' }).greyscale().threshold(128).png({ palette: true, colors: 2, compressionLevel: 9 }).toBuffer();
}

/**
 * Vary (Region): the upscaled image four times (a grid of its size), the masked area of each repainted with a
 * new picture of the new prompt under bold stripes, so the user sees exactly where the mask was honoured.
 */
export async function renderRegionGrid(base: ImageSpec, quadrant: number, longSide: number, mask: Buffer, repaint: ImageSpec): Promise<Buffer> {
  const { w, h } = dims(base.ratio, longSide);
  const original = await sharp(singleSvg(base, quadrant, longSide)).png().toBuffer();
  const alpha = await sharp(mask).resize(w, h, { fit: 'fill' }).flatten({ background: '#000' }).greyscale().toColourspace('b-w').raw().toBuffer();
  const stripes = `<defs><pattern id="st" width="48" height="48" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="24" height="48" fill="#fff" fill-opacity="0.35"/></pattern></defs><rect width="${w}" height="${h}" fill="url(#st)"/>`;
  const tiles = await Promise.all([1, 2, 3, 4].map(async (i) => {
    const fresh = svg(w, h, tile({ ...repaint, seed: repaint.seed + i }, i, 0, 0, w, h) + stripes);
    // Two pipelines: within one, sharp would drop the alpha after joining the mask as the alpha channel.
    const rgb = await sharp(fresh).removeAlpha().raw().toBuffer();
    const painted = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).joinChannel(alpha, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
    // sharp resizes before it composites within one pipeline: composite first, then shrink.
    const whole = await sharp(original).composite([{ input: painted }]).png().toBuffer();
    return sharp(whole).resize(Math.floor(w / 2), Math.floor(h / 2)).png().toBuffer();
  }));
  const tw = Math.floor(w / 2);
  const th = Math.floor(h / 2);
  return sharp({ create: { width: tw * 2, height: th * 2, channels: 3, background: '#000' } })
    .composite(tiles.map((input, i) => ({ input, left: (i % 2) * tw, top: Math.floor(i / 2) * th })))
    .png()
    .toBuffer();
}
