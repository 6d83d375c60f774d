// The banned-word gate: a prompt naming one of these never reaches the upstream. English entries match whole
// words (and their -s/-es plurals) case-insensitively; entries in Han script match anywhere, since Chinese
// has no spaces between words. Only prose is checked: URLs, parameters and the text of `--no` (which asks
// for the thing to be left out) are not.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.ts';
import type { PromptTranslation } from '../translate/translator.ts';
import type { Piece } from './parse.ts';

/**
 * Explicit sexual content, sexual violence and gore: what Midjourney-style services refuse outright. Short on
 * purpose — every entry also blocks innocent prompts somewhere — and extendable with BANNED_WORDS_FILE.
 */
export const DEFAULT_BANNED_WORDS: readonly string[] = [
  'nsfw', 'nude', 'nudity', 'naked', 'topless', 'porn', 'porno', 'pornography', 'pornographic', 'hentai', 'erotic',
  'erotica', 'xxx', 'genitals', 'genitalia', 'penis', 'vagina', 'orgasm', 'masturbation', 'masturbating', 'rape',
  'incest', 'bestiality', 'pedophile', 'paedophile', 'loli', 'lolicon', 'shota', 'gore', 'gory', 'disembowelled',
  'disemboweled', 'decapitated', 'dismembered', 'mutilated', 'snuff',
  '色情', '裸体', '强奸', '性交', '乱伦', '恋童',
];

export interface BannedMatch {
  /** The word as it appears in the prompt. */
  word: string;
}

const LATIN_EDGE = /^[\p{Script=Latin}\p{N}_]/u;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class BannedWords {
  private readonly pattern: RegExp | undefined;

  constructor(readonly words: readonly string[]) {
    // Longest first, so a phrase wins over a word inside it.
    const alternatives = [...new Set(words.map((w) => w.trim().toLowerCase()).filter(Boolean))]
      .sort((a, b) => b.length - a.length)
      .map((w) => {
        const body = w.split(/[\s-]+/).map(escape).join('[\\s-]+');
        // Word boundaries only against Latin letters and digits: `一个nude女人` still matches `nude`.
        const before = LATIN_EDGE.test(w) ? '(?<![\\p{Script=Latin}\\p{N}_])' : '';
        const after = LATIN_EDGE.test(w.at(-1)!) ? '(?:e?s)?(?![\\p{Script=Latin}\\p{N}_])' : '';
        return `${before}${body}${after}`;
      });
    this.pattern = alternatives.length > 0 ? new RegExp(alternatives.join('|'), 'iu') : undefined;
  }

  /**
   * The defaults plus a file of one word or phrase per line (`#` starts a comment). A line `!word` takes a
   * default out, for communities where it is legitimate.
   */
  static load(file?: string): BannedWords {
    const words = new Set(DEFAULT_BANNED_WORDS);
    if (!file) return new BannedWords([...words]);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`Configuration error: BANNED_WORDS_FILE cannot be read (${(err as Error).message}).`);
    }
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.replace(/#.*/, '').trim().toLowerCase();
      if (line.startsWith('!')) words.delete(line.slice(1).trim());
      else if (line) words.add(line);
    }
    return new BannedWords([...words]);
  }

  /** The first banned word in the prose of these pieces, if any. */
  find(pieces: readonly Piece[]): BannedMatch | undefined {
    if (!this.pattern) return undefined;
    for (const p of pieces) {
      if (p.kind !== 'text' || p.negative) continue;
      const m = this.pattern.exec(p.text);
      if (m) return { word: m[0] };
    }
    return undefined;
  }
}

/** A banned word in what the user typed, or in its English translation (named with the translation): /draw and remix. */
export function bannedRefusal(banned: BannedWords, original: readonly Piece[], translation: PromptTranslation | undefined) {
  const typed = banned.find(original);
  if (typed) return { key: 'translate:banned', vars: { word: typed.word } };
  const english = translation?.status === 'translated' ? banned.find(translation.pieces) : undefined;
  if (english) return { key: 'translate:bannedTranslated', vars: { word: english.word, prompt: translation!.upstream } };
  return undefined;
}
