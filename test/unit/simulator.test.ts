import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { GRID_ACTIONS } from '../../src/upstream/actions.ts';
import type { ParentRef } from '../../src/upstream/provider.ts';
import { SimulatorProvider } from '../../src/upstream/simulator.ts';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}
const parentOf = (upstreamId: string): ParentRef => ({ upstreamId, upstreamData: null, imageUrls: [], prompt: '' });

async function pixels(data: Buffer) {
  const { data: raw, info } = await sharp(data).raw().toBuffer({ resolveWithObject: true });
  return { raw, info };
}

describe('simulator', () => {
  it('reports queued, then rising progress with previews, then a grid with the grid actions', async () => {
    const c = clock();
    const sim = new SimulatorProvider(100, c.now);
    const { upstreamId } = await sim.submit({ kind: 'imagine', taskId: 't', prompt: 'a cat --ar 16:9' });
    const seen = [];
    for (let i = 0; i < 6; i++, c.advance(100)) seen.push((await sim.fetch([upstreamId]))[0]!);
    expect(seen.map((j) => j.status)).toEqual(['submitted', 'running', 'running', 'running', 'running', 'succeeded']);
    const progress = seen.map((j) => j.progress!);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(seen[2]!.previewUrl).toBeTruthy();
    expect(seen[5]!.actions).toEqual([...GRID_ACTIONS]);
    const grid = await sim.download(seen[5]!.imageUrls![0]!);
    const meta = await sharp(grid.data).metadata();
    expect(grid.contentType).toBe('image/png');
    expect(meta.width! / meta.height!).toBeCloseTo(16 / 9, 1);
  });

  it('draws distinct jobs and distinct quadrants, and U2 is quadrant 2 of its parent', async () => {
    const c = clock();
    const sim = new SimulatorProvider(10, c.now);
    const a = await sim.submit({ kind: 'imagine', taskId: 'a', prompt: 'same prompt' });
    const b = await sim.submit({ kind: 'imagine', taskId: 'b', prompt: 'same prompt' });
    const u2 = await sim.submit({ kind: 'action', taskId: 'u', action: 'upscale:2', parent: parentOf(a.upstreamId) });
    const u3 = await sim.submit({ kind: 'action', taskId: 'v', action: 'upscale:3', parent: parentOf(a.upstreamId) });
    c.advance(1000);
    const [ja, jb, j2, j3] = await sim.fetch([a.upstreamId, b.upstreamId, u2.upstreamId, u3.upstreamId]);
    const [ga, gb, i2, i3] = await Promise.all([ja, jb, j2, j3].map((j) => sim.download(j!.imageUrls![0]!)));
    expect(ga!.data.equals(gb!.data)).toBe(false);
    expect(i2!.data.equals(i3!.data)).toBe(false);
    expect(j2!.actions).toContain('zoom:2');
    expect(j2!.actions).toContain('upscale:4x');
    // The top-right quadrant of the grid, enlarged, matches U2 far better than U3 does.
    const grid = await pixels(ga!.data);
    const half = { left: grid.info.width / 2, top: 0, width: grid.info.width / 2, height: grid.info.height / 2 };
    const q2 = await sharp(ga!.data).extract(half).resize(64, 64, { fit: 'fill' }).raw().toBuffer();
    const small = (img: Buffer) => sharp(img).resize(64, 64, { fit: 'fill' }).raw().toBuffer();
    const diff = (x: Buffer, y: Buffer) => x.reduce((s, v, i) => s + Math.abs(v - y[i]!), 0);
    expect(diff(q2, await small(i2!.data))).toBeLessThan(diff(q2, await small(i3!.data)));
  });

  it('remix: V2, 🔄, Vary and pans take the task’s own prompt; upscales and zooms keep the parent’s', async () => {
    const sim = new SimulatorProvider(100);
    expect(sim.capabilities.remix).toEqual(expect.arrayContaining(['variation:2', 'reroll', 'vary:strong', 'pan:left']));
    expect(sim.capabilities.remix).not.toContain('upscale:2');
    const parent = await sim.submit({ kind: 'imagine', taskId: 'p', prompt: 'a cat' });
    // The simulator's job id is its whole job (a stateless token): what it will draw, prompt included.
    const drawn = (id: string) => JSON.parse(Buffer.from(id.slice('sim-'.length), 'base64url').toString('utf8')).p as string;
    const ref = { ...parentOf(parent.upstreamId), prompt: 'a cat' };
    expect(drawn((await sim.submit({ kind: 'action', taskId: 'v', action: 'variation:2', parent: ref, prompt: 'a dog' })).upstreamId)).toBe('a dog');
    expect(drawn((await sim.submit({ kind: 'action', taskId: 'z', action: 'zoom:2', parent: ref, prompt: 'a dog' })).upstreamId)).toBe('a cat');
  });

  it('survives a restart: a new instance reads the same job from its id', async () => {
    const c = clock();
    const before = new SimulatorProvider(10, c.now);
    const { upstreamId } = await before.submit({ kind: 'imagine', taskId: 't', prompt: 'persist' });
    c.advance(1000);
    const after = new SimulatorProvider(10, c.now);
    const [job] = await after.fetch([upstreamId, 'not-a-simulator-id']);
    expect(job).toMatchObject({ upstreamId, status: 'succeeded' });
    await expect(after.download('simulator://garbage/grid')).rejects.toThrow();
  });

  it('blends into a grid of the chosen shape, and describes with four placeholder prompts', async () => {
    const c = clock();
    const sim = new SimulatorProvider(10, c.now);
    const images = [{ url: 'https://cdn.example/a.png', contentType: 'image/png' }, { url: 'https://cdn.example/b.png', contentType: 'image/png' }];
    const blend = await sim.submit({ kind: 'blend', taskId: 'b', images, dimensions: 'portrait' });
    const described = await sim.submit({ kind: 'describe', taskId: 'd', image: images[0]! });
    c.advance(100);
    const [grid, text] = await sim.fetch([blend.upstreamId, described.upstreamId]);
    expect(grid!.actions).toEqual([...GRID_ACTIONS]);
    const meta = await sharp((await sim.download(grid!.imageUrls![0]!)).data).metadata();
    expect(meta.width! / meta.height!).toBeCloseTo(2 / 3, 1);
    expect(text).toMatchObject({ status: 'succeeded', imageUrls: [], actions: [] });
    expect(text!.descriptions).toHaveLength(4);
    expect(new Set(text!.descriptions).size).toBe(4);
  });
});
