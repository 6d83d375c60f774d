import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/db/schema.ts';
import { decodeCustomId } from '../../src/messages/custom-id.ts';
import { describedMessage, failedMessage, headline, resultMessage } from '../../src/messages/render.ts';
import { GRID_ACTIONS, SINGLE_ACTIONS, type InternalAction } from '../../src/upstream/actions.ts';

const base = {
  id: '0f8fad5b-d9cb-469f-a165-70867728950e',
  userId: '42',
  locale: 'en-US',
  prompt: 'a *cute* cat --ar 16:9',
  action: 'imagine',
} as Task;
const png = { name: 'grid.png', data: Buffer.from('x'), contentType: 'image/png' };
const layout = (task: Task) =>
  resultMessage(task, png).components.map((row) => row.components.map((b) => ('label' in b && b.label) || b.emoji?.name));

describe('render', () => {
  it('lists a /describe result with 1️⃣–4️⃣, markdown in the prompts neutralised, each button a pick of this task', () => {
    const task = { ...base, action: 'describe', prompt: 'photo.png', promptUpstream: 'photo.png', descriptions: ['a *bold* cat', 'two', 'three', 'four'] } as Task;
    const msg = describedMessage(task);
    expect(msg.content).toBe(
      '**photo.png** - Describe by <@42>\nSuggested prompts; press a number to draw one:\n\n1️⃣ a \\*bold\\* cat\n\n2️⃣ two\n\n3️⃣ three\n\n4️⃣ four',
    );
    const buttons = msg.components.flatMap((r) => r.components);
    expect(buttons.map((b) => b.emoji?.name)).toEqual(['1️⃣', '2️⃣', '3️⃣', '4️⃣']);
    expect(buttons.map((b) => decodeCustomId(b.custom_id))).toEqual([1, 2, 3, 4].map((n) => ({ taskId: task.id, action: `describe:${n}` })));
    expect(msg.file).toBeUndefined();
  });

  it('puts ↻ Retry under a failed job, in the owner’s language, naming the task', () => {
    for (const [locale, label] of [['en-US', '↻ Retry'], ['zh-CN', '↻ 重试']] as const) {
      const msg = failedMessage({ ...base, locale, status: 'failed' } as Task, 'x');
      const buttons = msg.components.flatMap((r) => r.components);
      expect(buttons.map((b) => ('label' in b ? b.label : undefined))).toEqual([label]);
      expect(decodeCustomId(buttons[0]!.custom_id)).toEqual({ taskId: base.id, action: 'retry' });
    }
  });

  it('lays a grid out as U1–U4 + 🔄 over V1–V4, each button naming the task and action', () => {
    const task = { ...base, actions: [...GRID_ACTIONS] } as Task;
    expect(layout(task)).toEqual([
      ['U1', 'U2', 'U3', 'U4', '🔄'],
      ['V1', 'V2', 'V3', 'V4'],
    ]);
    const ids = resultMessage(task, png).components.flatMap((r) => r.components.map((b) => decodeCustomId(b.custom_id)));
    expect(ids.map((d) => d?.action)).toEqual(['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll', 'variation:1', 'variation:2', 'variation:3', 'variation:4']);
    expect(new Set(ids.map((d) => d?.taskId))).toEqual(new Set([task.id]));
  });

  it('lays out the post-upscale tools Midjourney shows, only those offered', () => {
    const offered = SINGLE_ACTIONS.filter((a) => a !== 'zoom:custom' && a !== 'upscale:subtle' && a !== 'upscale:creative');
    expect(layout({ ...base, action: 'upscale:2', actions: offered } as Task)).toEqual([
      ['Vary (Strong)', 'Vary (Subtle)'],
      ['Zoom Out 2x', 'Zoom Out 1.5x'],
      ['⬅️', '➡️', '⬆️', '⬇️'],
      ['Upscale (2x)', 'Upscale (4x)'],
    ]);
    expect(layout({ ...base, actions: ['upscale:1'] as InternalAction[] } as Task)).toEqual([['U1']]);
    expect(layout({ ...base, actions: [] as InternalAction[] } as Task)).toEqual([]);
  });

  it('writes the headline like Midjourney, escaping markdown in the prompt, in the user language', () => {
    expect(headline(base)).toBe('**a \\*cute\\* cat --ar 16:9** - <@42>');
    expect(headline({ ...base, action: 'upscale:2' })).toBe('**a \\*cute\\* cat --ar 16:9** - Image #2 <@42>');
    expect(headline({ ...base, action: 'zoom:2' })).toBe('**a \\*cute\\* cat --ar 16:9** - Zoom Out by <@42>');
    expect(headline({ ...base, action: 'variation:3', locale: 'zh-CN' })).toBe('**a \\*cute\\* cat --ar 16:9** - <@42> 的变体');
    const zh = layout({ ...base, locale: 'zh-CN', action: 'upscale:1', actions: ['vary:subtle', 'zoom:2'] as InternalAction[] } as Task);
    expect(zh).toEqual([['细微变化'], ['缩小 2 倍']]);
  });
});

describe('render: translated prompts', () => {
  it('shows the prompt as sent under the one typed, only when they differ', () => {
    const zh = { ...base, prompt: '一只*可爱*的猫 --ar 16：9', promptUpstream: 'a *cute* cat --ar 16:9', locale: 'zh-CN', actions: [] } as unknown as Task;
    expect(resultMessage(zh, png).content).toBe('**一只\\*可爱\\*的猫 --ar 16：9** - <@42>\n🌐 实际发送：a \\*cute\\* cat --ar 16:9');
    const en = { ...zh, locale: 'en-US' } as Task;
    expect(resultMessage(en, png).content).toBe('**一只\\*可爱\\*的猫 --ar 16：9** - <@42>\n🌐 Sent as: a \\*cute\\* cat --ar 16:9');
    const same = { ...base, promptUpstream: base.prompt, actions: [] } as unknown as Task;
    expect(resultMessage(same, png).content).toBe('**a \\*cute\\* cat --ar 16:9** - <@42>');
  });
});
