// Turns a Chinese (or mixed) prompt into the English one sent upstream. Only prose holding Han characters is
// translated, each piece on its own line; URLs, weights and parameters keep their place. Translations are
// cached by line, and a line already on its way to Baidu is not asked for twice.
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { hanTexts, joinPieces, type Piece } from '../prompt/parse.ts';
import { BaiduClient } from './baidu.ts';
import { TranslationBatcher } from './batcher.ts';
import { LruCache } from './lru.ts';

/** none: nothing to translate. notConfigured / failed: sent as typed, and the user is told. */
export type TranslationStatus = 'none' | 'translated' | 'notConfigured' | 'failed';

export interface PromptTranslation {
  status: TranslationStatus;
  /** The prompt for the upstream: translated and normalised, or normalised only. */
  upstream: string;
  /** The pieces of `upstream`, for the banned-word check. */
  pieces: Piece[];
}

/** Distinct lines remembered; a line is at most a prompt (1,500 characters), so this stays within a few MB. */
export const TRANSLATION_CACHE_SIZE = 2000;

const lineKey = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * Baidu writes each line as a sentence: a capital first letter and, after `。`, a full stop. In a prompt
 * fragment both are noise (Midjourney ignores case), so they go; acronyms like `NASA` keep their capitals.
 */
export function tidyTranslation(english: string): string {
  const text = english.trim().replace(/(?<!\.)\.$/, '').trimEnd();
  const first = /^[A-Z][a-z]*(?![\p{L}\p{N}])/u.exec(text)?.[0];
  return first && first !== 'I' ? first.toLowerCase() + text.slice(first.length) : text;
}

export class PromptTranslator {
  private readonly cache = new LruCache<string, string>(TRANSLATION_CACHE_SIZE);
  private readonly inflight = new Map<string, Promise<string>>();

  /** Without a batcher (Baidu not configured) Chinese prompts go upstream as typed. */
  constructor(private readonly batcher: Pick<TranslationBatcher, 'translate'> | undefined) {}

  static fromConfig(config: Config, log: Logger): PromptTranslator {
    if (!config.BAIDU_APP_ID || !config.BAIDU_SECRET) {
      log.warn('BAIDU_APP_ID and BAIDU_SECRET are not set: Chinese prompts go upstream untranslated (see README → Chinese prompts)');
      return new PromptTranslator(undefined);
    }
    const client = new BaiduClient({ appId: config.BAIDU_APP_ID, secret: config.BAIDU_SECRET, apiUrl: config.BAIDU_API_URL });
    return new PromptTranslator(new TranslationBatcher(client, log, { qps: config.BAIDU_QPS }));
  }

  /** The answer when no request is needed (nothing to translate, not configured, or all cached); else undefined. */
  cached(pieces: readonly Piece[]): PromptTranslation | undefined {
    const han = hanTexts(pieces);
    if (han.length === 0) return result('none', pieces);
    if (!this.batcher) return result('notConfigured', pieces);
    const english = han.map((p) => this.cache.get(lineKey(p.text)));
    if (english.some((e) => e === undefined)) return undefined;
    return result('translated', substitute(pieces, han, english as string[]));
  }

  /** Never rejects: when Baidu fails for good the prompt goes as typed (status `failed`); the batcher logs why. */
  async translate(pieces: readonly Piece[]): Promise<PromptTranslation> {
    const ready = this.cached(pieces);
    if (ready) return ready;
    const han = hanTexts(pieces);
    try {
      const english = await Promise.all(han.map((p) => this.line(lineKey(p.text))));
      return result('translated', substitute(pieces, han, english));
    } catch {
      return result('failed', pieces);
    }
  }

  private line(key: string): Promise<string> {
    const hit = this.cache.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.batcher!.translate(key)
        .then((english) => {
          const tidy = tidyTranslation(english);
          this.cache.set(key, tidy);
          return tidy;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }
}

function substitute(pieces: readonly Piece[], han: readonly Piece[], english: readonly string[]): Piece[] {
  const replacement = new Map(han.map((p, i) => [p, english[i]!]));
  return pieces.map((p) => (p.kind === 'text' && replacement.has(p) ? { ...p, text: replacement.get(p)! } : p));
}

function result(status: TranslationStatus, pieces: readonly Piece[]): PromptTranslation {
  return { status, upstream: joinPieces(pieces), pieces: [...pieces] };
}
