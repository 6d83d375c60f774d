import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/db/schema.ts';
import { decodeCustomId, encodeCustomId } from '../../src/messages/custom-id.ts';
import { cancelledMessage, progressMessage, queuedMessage, waitingMessage, type OutgoingMessage } from '../../src/messages/render.ts';

const task = {
  id: '0f8fad5b-d9cb-469f-a165-70867728950e',
  userId: '42',
  locale: 'en-US',
  prompt: 'a *cute* cat',
  promptUpstream: 'a *cute* cat',
  action: 'imagine',
} as Task;

const buttons = (msg: OutgoingMessage) => msg.components.flatMap((row) => row.components.map((b) => ({ emoji: b.emoji?.name, id: decodeCustomId(b.custom_id) })));
const CANCEL_BUTTON = [{ emoji: '❌', id: { taskId: task.id, action: 'cancel' } }];

describe('render: the queue and ❌', () => {
  it('shows a queued job its place in line with ❌, in the user language', () => {
    const msg = queuedMessage(task, 3);
    expect(msg.content).toBe('**a \\*cute\\* cat** - <@42> ⏳ Waiting in the queue — position 3');
    expect(buttons(msg)).toEqual(CANCEL_BUTTON);
    expect(queuedMessage({ ...task, locale: 'zh-CN' }, 12).content).toBe('**a \\*cute\\* cat** - <@42> ⏳ 排队中——第 12 位');
  });

  it('keeps the translated prompt line under the place in line', () => {
    const zh = { ...task, prompt: '一只猫', promptUpstream: 'a cat', locale: 'zh-CN' } as Task;
    expect(queuedMessage(zh, 1).content).toBe('**一只猫** - <@42> ⏳ 排队中——第 1 位\n🌐 实际发送：a cat');
  });

  it('offers ❌ on waiting and progress messages only when the job can still be stopped', () => {
    expect(buttons(waitingMessage(task, { cancellable: true }))).toEqual(CANCEL_BUTTON);
    expect(waitingMessage(task).components).toEqual([]);
    // A job not stored yet has no id for a button.
    const { id: _, ...draft } = task;
    expect(waitingMessage(draft, { cancellable: true }).components).toEqual([]);
    expect(buttons(progressMessage(task, 40, undefined, { cancellable: true }))).toEqual(CANCEL_BUTTON);
    expect(progressMessage(task, 40).components).toEqual([]);
    expect(progressMessage(task, 40, undefined, { cancellable: true }).content).toBe('**a \\*cute\\* cat** - <@42> (40%)');
  });

  it('says a job was cancelled, keeping its headline, without buttons; names a moderator who did it', () => {
    expect(cancelledMessage(task)).toEqual({ content: '❌ **a \\*cute\\* cat** - <@42>\nCancelled.', components: [] });
    expect(cancelledMessage(task, '42').content).toBe('❌ **a \\*cute\\* cat** - <@42>\nCancelled.');
    expect(cancelledMessage(task, '7').content).toBe('❌ **a \\*cute\\* cat** - <@42>\nCancelled by <@7>.');
    expect(cancelledMessage({ ...task, locale: 'zh-CN' }, '7').content).toBe('❌ **a \\*cute\\* cat** - <@42>\n已被 <@7> 取消。');
  });

  it('encodes ❌ like every other button', () => {
    expect(encodeCustomId(task.id, 'cancel')).toBe(`mj:${task.id}:cancel`);
    expect(decodeCustomId(`mj:${task.id}:cancel`)).toEqual({ taskId: task.id, action: 'cancel' });
    expect(decodeCustomId(`mj:${task.id}:cancel:1`)).toBeUndefined();
    expect(decodeCustomId('mj:not-a-uuid:cancel')).toBeUndefined();
  });
});
