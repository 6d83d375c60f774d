// Custom Zoom's modal: what Discord is shown, and how the typed factor becomes the upstream prompt.
import { describe, expect, it } from 'vitest';
import { decodeCustomId } from '../../src/messages/custom-id.ts';
import { zoomFactor, zoomModal, zoomPrompt } from '../../src/discord/zoom-modal.ts';
import type { Task } from '../../src/db/schema.ts';
import { translator } from '../../src/i18n.ts';

describe('Custom Zoom modal', () => {
  it('names the parent task like a button does, titled in the user’s language, pre-filled with 2', () => {
    const modal = zoomModal({ id: '6f1c2a9e-0000-4000-8000-000000000001' } as Task, translator('zh-CN'));
    expect(decodeCustomId(modal.custom_id)).toEqual({ taskId: '6f1c2a9e-0000-4000-8000-000000000001', action: 'zoom:custom' });
    expect(modal.title).toBe('自定义缩放');
    expect(modal.components[0]).toMatchObject({ components: [{ custom_id: 'zoom', value: '2', required: true }] });
  });

  it.each([
    ['1.5', 1.5],
    ['1,25', 1.25],
    ['2', 2],
    [' 1 ', 1],
    ['1.333', 1.33],
    ['7', undefined],
    ['0.2', undefined],
    ['abc', undefined],
    ['1.5x', undefined],
    ['', undefined],
  ])('reads %j as %s', (raw, factor) => {
    expect(zoomFactor(raw)).toBe(factor);
  });

  it('replaces any --zoom already in the prompt', () => {
    expect(zoomPrompt('a cat --ar 16:9', 1.5)).toBe('a cat --ar 16:9 --zoom 1.5');
    expect(zoomPrompt('a cat --zoom 1.2 --ar 16:9', 2)).toBe('a cat --ar 16:9 --zoom 2');
  });
});
