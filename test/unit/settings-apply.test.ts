// How /settings apply to a new job: the default ratio joins only prompts that set none; a mode no account
// serves any more is dropped rather than leaving the job waiting for an account that never takes it.
import { describe, expect, it } from 'vitest';
import { usableMode, withAspectRatio, withVersion } from '../../src/settings/apply.ts';

describe('withAspectRatio', () => {
  it('appends --ar to a prompt without a ratio', () => {
    expect(withAspectRatio('a cat', '16:9')).toBe('a cat --ar 16:9');
    expect(withAspectRatio('a cat --v 6 --no dogs ', '2:3')).toBe('a cat --v 6 --no dogs --ar 2:3');
  });

  it('leaves a prompt that sets its own ratio, or no default, as it is', () => {
    expect(withAspectRatio('a cat --ar 1:2', '16:9')).toBe('a cat --ar 1:2');
    expect(withAspectRatio('a cat --AR 1:2', '16:9')).toBe('a cat --AR 1:2');
    expect(withAspectRatio('a cat --aspect 3:4 --v 6', '16:9')).toBe('a cat --aspect 3:4 --v 6');
    expect(withAspectRatio('a cat', null)).toBe('a cat');
  });

  it('is not fooled by words that only look like the parameter', () => {
    expect(withAspectRatio('a well--ar ranged room', '4:5')).toBe('a well--ar ranged room --ar 4:5');
    expect(withAspectRatio('https://example.com/x--ar.png a cat', '4:5')).toBe('https://example.com/x--ar.png a cat --ar 4:5');
  });
});

describe('usableMode', () => {
  const only = (...modes: string[]) => ({ serves: (m: string) => modes.includes(m) });
  it('passes a served mode on and drops one no account serves', () => {
    expect(usableMode(only('fast', 'turbo'), 'turbo')).toBe('turbo');
    expect(usableMode(only('fast', 'turbo'), 'relax')).toBeUndefined();
    expect(usableMode(only('fast'), null)).toBeUndefined();
  });
});

describe('withVersion', () => {
  it('adds --v or --niji to prompts that name no version', () => {
    expect(withVersion('a cat', '8.1')).toBe('a cat --v 8.1');
    expect(withVersion('a cat --ar 2:3 ', '7')).toBe('a cat --ar 2:3 --v 7');
    expect(withVersion('a cat', 'niji 7')).toBe('a cat --niji 7');
    expect(withVersion('a cat', null)).toBe('a cat');
  });

  it('keeps the version a prompt names', () => {
    expect(withVersion('a cat --v 6', '8.1')).toBe('a cat --v 6');
    expect(withVersion('a cat --version 7', 'niji 7')).toBe('a cat --version 7');
    expect(withVersion('a cat --niji', '8.1')).toBe('a cat --niji');
    expect(withVersion('一只猫 ——v 7', '8.1')).toBe('一只猫 ——v 7');
  });
});
