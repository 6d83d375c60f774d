// --params a relay would refuse are caught before anything starts; the ones it takes pass untouched.
import { describe, expect, it } from 'vitest';
import { checkParams } from '../../src/prompt/params.ts';
import { parsePrompt } from '../../src/prompt/parse.ts';
import { checkPrompt } from '../../src/prompt/validate.ts';

const check = (prompt: string) => checkParams(parsePrompt(prompt));

describe('checkParams', () => {
  it.each([
    'a cat',
    'a cat --ar 16:9 --v 6.1 --s 250 --c 20 --seed 42 --q .5',
    'a cat --no dogs, birds --tile --style raw --relax',
    'https://example.com/a.png a cat --iw 1.5 --sref https://example.com/s.png --sw 300',
    'a cat --niji --ar 2:3',
    'a cat --niji 6 --p',
    'a cat --v 8',
    'a cat --v 8.1 --oref https://example.com/o.png --ow 100',
    'a cat --niji 7',
    '一只猫 ——ar 16：9 ——v 6',
    'a well--known cat',
  ])('passes %s', (prompt) => {
    expect(check(prompt)).toBeUndefined();
  });

  it.each([
    ['a cat --ar 0:0', 'params:errors.ratio', { param: '--ar', value: '0:0' }],
    ['a cat --ar wide', 'params:errors.ratio', { param: '--ar', value: 'wide' }],
    ['a cat --v 99', 'params:errors.choice', { param: '--v', value: '99' }],
    ['a cat --v 8.2', 'params:errors.choice', { param: '--v', value: '8.2' }],
    ['a cat --niji 8', 'params:errors.choice', { param: '--niji', value: '8' }],
    ['a cat --s 1001', 'params:errors.range', { param: '--s', value: '1001', min: 0, max: 1000 }],
    ['a cat --seed 1.5', 'params:errors.wholeRange', { param: '--seed', value: '1.5' }],
    ['a cat --chaos lots', 'params:errors.range', { param: '--chaos', value: 'lots' }],
    ['a cat --tile yes', 'params:errors.noValue', { param: '--tile', value: 'yes' }],
    ['a cat --no', 'params:errors.needsValue', { param: '--no' }],
    ['a cat --sizzle 3', 'params:errors.unknown', { param: '--sizzle' }],
  ])('refuses %s', (prompt, key, vars) => {
    expect(check(prompt)).toMatchObject({ key, vars });
  });

  it('is part of the prompt check', () => {
    expect(checkPrompt('a cat --v 99')).toMatchObject({ ok: false, error: 'params:errors.choice' });
    expect(checkPrompt('a cat --v 6')).toEqual({ ok: true, prompt: 'a cat --v 6' });
  });
});
