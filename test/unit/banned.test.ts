import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.ts';
import { BannedWords, DEFAULT_BANNED_WORDS } from '../../src/prompt/banned.ts';
import { parsePrompt } from '../../src/prompt/parse.ts';

const defaults = BannedWords.load();
const find = (prompt: string, list = defaults) => list.find(parsePrompt(prompt))?.word;

describe('banned words', () => {
  it.each([
    ['a nude portrait', 'nude'],
    ['Nudes on a beach', 'Nudes'],
    ['a semi-nude statue', 'nude'],
    ['NSFW art', 'NSFW'],
    ['一个nude女人', 'nude'],
    ['一幅裸体画', '裸体'],
  ])('finds the word in %j', (prompt, word) => {
    expect(find(prompt)).toBe(word);
  });

  it.each([
    'denuded hills at dawn',
    'a cat --no nude, gore',
    'https://example.com/nude.png a cat',
    'a goretex jacket',
    'a cat --style raw',
  ])('lets %j through (word boundaries; URLs, parameters and --no are not prose)', (prompt) => {
    expect(find(prompt)).toBeUndefined();
  });

  describe('BANNED_WORDS_FILE', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'banned-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('adds words and phrases, drops defaults with !, ignores comments', async () => {
      const file = path.join(dir, 'words.txt');
      await writeFile(file, '# our server\nDragon\nblood bath   # phrase\n!gore\n\n龙\n');
      const list = BannedWords.load(file);
      expect(find('a red dragon', list)).toBe('dragon');
      expect(find('a blood-bath', list)).toBe('blood-bath');
      expect(find('一条龙', list)).toBe('龙');
      expect(find('gore in a horror film', list)).toBeUndefined();
      expect(find('a nude portrait', list)).toBe('nude');
      expect(list.words).toHaveLength(DEFAULT_BANNED_WORDS.length - 1 + 3);
    });

    it('explains a file it cannot read', () => {
      expect(() => BannedWords.load(dir)).toThrow(ConfigError);
      expect(() => BannedWords.load(dir)).toThrow(/BANNED_WORDS_FILE cannot be read/);
    });
  });
});
