import { describe, expect, it } from 'vitest';
import { decodeCustomId, encodeCustomId } from '../../src/messages/custom-id.ts';
import { DESCRIBE_PICKS, INTERNAL_ACTIONS, VIDEO_ACTIONS } from '../../src/upstream/actions.ts';

const id = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('custom_id codec', () => {
  it('round-trips every internal action within Discord 100-character limit', () => {
    for (const action of INTERNAL_ACTIONS) {
      const encoded = encodeCustomId(id, action);
      expect(encoded.length).toBeLessThanOrEqual(100);
      expect(decodeCustomId(encoded)).toEqual({ taskId: id, action });
    }
  });

  it('round-trips the 1️⃣–4️⃣ picks of a /describe result', () => {
    for (const pick of DESCRIBE_PICKS) expect(decodeCustomId(encodeCustomId(id, pick))).toEqual({ taskId: id, action: pick });
    expect(encodeCustomId(id, 'describe:2')).toBe(`mj:${id}:describe:2`);
  });

  it('carries the video actions as plain provider-neutral names', () => {
    for (const action of VIDEO_ACTIONS) expect(decodeCustomId(encodeCustomId(id, action))).toEqual({ taskId: id, action });
    expect(encodeCustomId(id, 'animate:high')).toBe(`mj:${id}:animate:high`);
    expect(encodeCustomId(id, 'video:pick:3')).toBe(`mj:${id}:video:pick:3`);
    expect(encodeCustomId(id, 'extend:low')).toBe(`mj:${id}:extend:low`);
  });

  it.each([`mj:${id}:animate`, `mj:${id}:animate:medium`, `mj:${id}:video:pick:0`, `mj:${id}:video:pick:5`, `mj:${id}:video:pick`, `mj:${id}:extend`, 'MJ::JOB::animate_high::1::abc::SOLO'])(
    'rejects the malformed video id %j',
    (value) => expect(decodeCustomId(value)).toBeUndefined(),
  );

  it.each([`mj:${id}:describe`, `mj:${id}:describe:0`, `mj:${id}:describe:5`, '', 'mj', `mj:${id}`, `mj:${id}:explode`, `mj:not-a-uuid:upscale:1`, `xx:${id}:upscale:1`, `mj:${id}:upscale:5`, `MJ::JOB::upsample::1::abc`])(
    'rejects %j',
    (value) => expect(decodeCustomId(value)).toBeUndefined(),
  );
});
