import { describe, expect, it } from 'vitest';
import { PROMPT_MAX_LENGTH, aspectRatio, checkPrompt } from '../../src/prompt/validate.ts';

describe('checkPrompt', () => {
  it('accepts and tidies a normal prompt', () => {
    expect(checkPrompt('  a cute cat\n --ar 16:9 ')).toEqual({ ok: true, prompt: 'a cute cat --ar 16:9' });
  });
  it.each([[''], ['   '], ['\u0000\u0007'], [null]])('rejects empty %j', (raw) => {
    expect(checkPrompt(raw)).toEqual({ ok: false, error: 'errors.promptEmpty' });
  });
  it('rejects a prompt over the limit, saying how long it is', () => {
    expect(checkPrompt('x'.repeat(PROMPT_MAX_LENGTH + 1))).toEqual({
      ok: false,
      error: 'errors.promptTooLong',
      vars: { max: PROMPT_MAX_LENGTH, length: PROMPT_MAX_LENGTH + 1 },
    });
    expect(checkPrompt('x'.repeat(PROMPT_MAX_LENGTH)).ok).toBe(true);
  });
  it('strips control characters', () => {
    expect(checkPrompt('a\u0000 cat\u001b')).toEqual({ ok: true, prompt: 'a cat' });
  });
});

describe('aspectRatio', () => {
  it.each([
    ['a cat --ar 16:9', { w: 16 / 9, h: 1 }],
    ['a cat --aspect 2:3 --v 6', { w: 1, h: 1.5 }],
    ['a cat', { w: 1, h: 1 }],
    ['a cat --ar 0:0', { w: 1, h: 1 }],
    ['a cat --ar 10:1', { w: 3, h: 1 }],
  ])('%s', (prompt, ratio) => {
    const r = aspectRatio(prompt);
    expect(r.w).toBeCloseTo(ratio.w);
    expect(r.h).toBeCloseTo(ratio.h);
  });
});
