import { describe, expect, it } from 'vitest';
import { hanTexts, joinPieces, normalizePrompt, parsePrompt } from '../../src/prompt/parse.ts';

describe('parsePrompt / normalizePrompt', () => {
  it.each([
    'a cute cat --ar 16:9',
    'a cute cat --ar 16:9 --v 6 --no text, watermark',
    'https://example.com/cat.png a cute cat --iw 2',
    'hot dog::2 animal::-0.5 --stylize 250',
    'a well--known landmark',
    'cats—so many cats',
    '一只猫——很可爱',
    'A --tile pattern',
  ])('gives back %j unchanged when nothing needs normalising', (prompt) => {
    expect(normalizePrompt(prompt)).toBe(prompt);
  });

  it.each([
    ['一只可爱的猫 --ar 16：9 --v 6', '一只可爱的猫 --ar 16:9 --v 6'],
    ['一只可爱的猫 ——ar 16：9', '一只可爱的猫 --ar 16:9'],
    ['一只猫——ar 16：9——v 6', '一只猫 --ar 16:9 --v 6'],
    ['a cat －－ａｒ １６：９', 'a cat --ar 16:9'],
    ['a cat —v 6', 'a cat --v 6'],
    ['a cat --iw 0。5 --stop ８０', 'a cat --iw 0.5 --stop 80'],
    ['热狗：：２ 动物：：－0.5', '热狗::2 动物::-0.5'],
    ['https://example.com/a.png一只猫', 'https://example.com/a.png 一只猫'],
  ])('normalises the parameters a Chinese keyboard types: %j', (prompt, normalised) => {
    expect(normalizePrompt(prompt)).toBe(normalised);
  });

  it('separates prose, URLs, weights, parameters and the text of --no', () => {
    const pieces = parsePrompt('<https://example.com/a.png> 热狗::2 动物 --no 文字，水印 --ar 1:1');
    expect(pieces.filter((p) => p.kind !== 'gap')).toEqual([
      { kind: 'url', text: '<https://example.com/a.png>' },
      { kind: 'text', text: '热狗', negative: false },
      { kind: 'weight', text: '::2' },
      { kind: 'text', text: '动物', negative: false },
      { kind: 'flag', text: '--no', name: 'no' },
      { kind: 'text', text: '文字，水印', negative: true },
      { kind: 'flag', text: '--ar', name: 'ar' },
      { kind: 'value', text: '1:1' },
    ]);
    expect(hanTexts(pieces).map((p) => p.text)).toEqual(['热狗', '动物', '文字，水印']);
  });

  it('finds Han characters in mixed text, and none in parameters or URLs', () => {
    expect(hanTexts(parsePrompt('a cute 猫 in the rain')).map((p) => p.text)).toEqual(['a cute 猫 in the rain']);
    expect(hanTexts(parsePrompt('a cat --ar 16:9'))).toEqual([]);
    expect(hanTexts(parsePrompt('https://example.com/猫.png'))).toHaveLength(1); // a Han path ends the URL
  });

  it('does not read dashes inside a URL as a parameter', () => {
    const pieces = parsePrompt('https://example.com/a--ar.png a cat');
    expect(pieces.some((p) => p.kind === 'flag')).toBe(false);
  });

  it('puts translated prose back in place, spaced the English way', () => {
    const pieces = parsePrompt('热狗::2动物 --no 文字 --ar 16：9');
    const english = new Map([['热狗', 'hot dog'], ['动物', 'animal'], ['文字', 'text']]);
    const out = pieces.map((p) => (p.kind === 'text' ? { ...p, text: english.get(p.text) ?? p.text } : p));
    expect(joinPieces(out)).toBe('hot dog::2 animal --no text --ar 16:9');
  });
});
