// The reason codes read from relays' failure words (Midjourney's embed titles as relays forward them).
import { describe, expect, it } from 'vitest';
import { blockingCodeOf, failCodeOf, isLocaleKey } from '../../src/upstream/fail-codes.ts';

describe('failCodeOf', () => {
  it.each([
    ['[Banned prompt detected] The word "gore" is banned', 'banned_prompt'],
    ['可能包含敏感词 (peach)', 'banned_prompt'],
    ['Action needed to continue, Sorry! Our AI moderators feel your prompt might be against our community standards.', 'moderation'],
    ['Pending mod message', 'moderation'],
    ['可能包含违规信息', 'moderation'],
    ['[Invalid parameter] Unrecognized parameter: --frame', 'invalid_parameter'],
    ['Unrecognized argument(s): `-c`, `x`', 'invalid_parameter'],
    ['Job action restricted', 'relay_error'],
    ['失败', 'relay_error'],
  ])('%s → %s', (text, code) => {
    expect(failCodeOf(text)).toBe(code);
  });

  it('names no blocking code for ordinary words, and tells our locale keys from relay words', () => {
    expect(blockingCodeOf('Request cancelled due to image filters')).toBeUndefined();
    expect(blockingCodeOf(undefined)).toBeUndefined();
    expect(isLocaleKey('errors.upstreamNoReason')).toBe(true);
    expect(isLocaleKey('images:errors.unsupported')).toBe(true);
    expect(isLocaleKey('errors happen')).toBe(false);
  });
});
