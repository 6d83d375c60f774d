import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/db/schema.ts';
import { decodeCustomId } from '../../src/messages/custom-id.ts';
import { headline, resultMessage, videoResultMessage } from '../../src/messages/render.ts';
import { ANIMATE_ACTIONS, EXTEND_ACTIONS, SINGLE_ACTIONS, VIDEO_PICKS } from '../../src/upstream/actions.ts';

const base = { id: '0f8fad5b-d9cb-469f-a165-70867728950e', userId: '42', locale: 'en-US', prompt: 'a boat', action: 'animate:high' } as Task;
const clip = (n: number) => ({ name: `video_${n}_0f8fad5b.mp4`, data: Buffer.from('x'), contentType: 'video/mp4' });
const faces = (m: ReturnType<typeof videoResultMessage>) => m.components.map((row) => row.components.map((b) => ('label' in b && b.label) || b.emoji?.name));

describe('render: video', () => {
  it('an upscale with video shows Animate (auto and manual) in a row of its own, within five rows', () => {
    const msg = resultMessage({ ...base, action: 'upscale:1', actions: [...SINGLE_ACTIONS, ...ANIMATE_ACTIONS] } as Task, clip(0));
    expect(msg.components.length).toBeLessThanOrEqual(5);
    expect(msg.components.map((r) => r.components.map((b) => decodeCustomId(b.custom_id)?.action))).toContainEqual([...ANIMATE_ACTIONS]);
  });

  it('a batch of clips: every clip attached, U1–U4 picking them; the headline names Animate', () => {
    const msg = videoResultMessage({ ...base, actions: [...VIDEO_PICKS] } as Task, [1, 2, 3, 4].map(clip));
    expect(msg.files?.map((f) => f.name)).toEqual([1, 2, 3, 4].map((n) => `video_${n}_0f8fad5b.mp4`));
    expect(msg.file).toBeUndefined();
    expect(msg.content).toBe('**a boat** - Animate by <@42>');
    expect(faces(msg)).toEqual([['U1', 'U2', 'U3', 'U4']]);
    expect(msg.components[0]!.components.map((b) => decodeCustomId(b.custom_id)?.action)).toEqual([...VIDEO_PICKS]);
  });

  it('a picked clip is "Video #N" with Extend; a clip left out says why under the headline', () => {
    const picked = { ...base, action: 'video:pick:3', actions: [...EXTEND_ACTIONS] } as Task;
    expect(headline(picked)).toBe('**a boat** - Video #3 <@42>');
    expect(headline({ ...picked, locale: 'zh-CN' })).toBe('**a boat** - 视频 #3 <@42>');
    const msg = videoResultMessage(picked, [], 'too big');
    expect(msg.content).toBe('**a boat** - Video #3 <@42>\ntoo big');
    expect(faces(msg)).toEqual([['Extend (Low motion)', 'Extend (High motion)']]);
    expect(headline({ ...picked, action: 'extend:low' })).toBe('**a boat** - Extend by <@42>');
  });
});
