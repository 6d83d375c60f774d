// Batching under the rate limit, retries, the cache and prompt handling, against the fake Baidu over HTTP.
// The fake enforces the plan's rate itself (54003 + a violation), so "never too fast" needs no timing assertion.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePrompt } from '../../src/prompt/parse.ts';
import { BaiduClient, BaiduError } from '../../src/translate/baidu.ts';
import { TranslationBatcher, type BatcherOptions } from '../../src/translate/batcher.ts';
import { LruCache } from '../../src/translate/lru.ts';
import { PromptTranslator, tidyTranslation } from '../../src/translate/translator.ts';
import { FakeBaidu } from '../support/fake-baidu.ts';
import { memoryLog, type MemoryLog } from '../support/memory-log.ts';

const QPS = 10;
let baidu: FakeBaidu;
let logs: MemoryLog;

beforeEach(async () => {
  baidu = await FakeBaidu.start({
    qps: QPS,
    dictionary: { 一只可爱的猫: 'A cute cat', 热狗: 'Hot dog', 动物: 'Animal', '文字，水印': 'Text, watermark.', 一: 'One', 二: 'Two', 三: 'Three' },
    risky: ['危险'],
  });
  logs = memoryLog();
});
afterEach(async () => {
  baidu.assertNoViolations();
  await baidu.close();
});

function batcher(options: Partial<BatcherOptions> = {}) {
  const client = new BaiduClient({ appId: baidu.appId, secret: baidu.secret, apiUrl: baidu.url });
  return new TranslationBatcher(client, logs.log, { qps: QPS, retryDelaysMs: [10, 20, 40], ...options });
}

describe('TranslationBatcher', () => {
  it('sends lines that arrive while a request is out together in the next one, one line each', async () => {
    const b = batcher();
    const release = baidu.hold();
    const first = b.translate('一');
    await baidu.waitForRequests(1);
    const rest = [b.translate('二'), b.translate('三')];
    release();
    expect(await Promise.all([first, ...rest])).toEqual(['One', 'Two', 'Three']);
    expect(baidu.requests.map((r) => r.lines)).toEqual([['一'], ['二', '三']]);
  });

  it('never goes faster than the plan allows, however the lines arrive', async () => {
    const b = batcher();
    for (const line of ['一', '二', '三', '一', '二']) await b.translate(line);
    await Promise.all(['一', '二', '三'].map((l) => b.translate(l)));
    expect(baidu.requests).toHaveLength(6);
    // assertNoViolations (afterEach): no request came sooner than 1/QPS s after the previous answer.
  });

  it('keeps each request under the byte budget', async () => {
    const b = batcher({ maxBytes: 7 }); // two Han characters and a newline
    const release = baidu.hold();
    const first = b.translate('一');
    await baidu.waitForRequests(1);
    const rest = ['二', '三', '一'].map((l) => b.translate(l));
    release();
    await Promise.all([first, ...rest]);
    expect(baidu.requests.map((r) => r.lines)).toEqual([['一'], ['二', '三'], ['一']]);
  });

  it.each(['52001', '52002', '54003'])('retries %s with backoff and succeeds', async (code) => {
    baidu.inject(code, 2);
    expect(await batcher().translate('一')).toBe('One');
    expect(baidu.requests.map((r) => 'error' in r.answer && r.answer.error)).toEqual([code, code, false]);
    expect(logs.lines.filter((l) => l.msg.endsWith('retrying')).map((l) => l.retryInMs)).toEqual([10, 20]);
  });

  it('waits at least 3 s before retrying 54005 (long queries too often)', async () => {
    baidu.inject('54005');
    expect(await batcher().translate('一')).toBe('One');
    const [failed, ok] = baidu.requests;
    expect(ok!.at - failed!.at).toBeGreaterThanOrEqual(3000);
  });

  it('gives up on a transient error after the last retry and tells the operator', async () => {
    baidu.inject('52002', 4);
    const err = await batcher().translate('一').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '52002', kind: 'transient' });
    expect(baidu.requests).toHaveLength(4);
    expect(logs.lines.find((l) => l.level === 50)).toMatchObject({ code: '52002', attempts: 4 });
  });

  it('does not retry a configuration error, and logs what to fix', async () => {
    baidu.inject('54004');
    const err = await batcher().translate('一').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BaiduError);
    expect(baidu.requests).toHaveLength(1);
    const line = logs.lines.find((l) => l.level === 50)!;
    expect(line).toMatchObject({ code: '54004', hint: expect.stringMatching(/top up/) });
    expect(line.msg).toMatch(/^Baidu Translate 54004: insufficient account balance/);
  });

  it('when one line spoils a batch (20003), sends the lines one by one so the others still get through', async () => {
    const b = batcher();
    const release = baidu.hold();
    const first = b.translate('一');
    await baidu.waitForRequests(1);
    const results = Promise.allSettled([b.translate('二'), b.translate('危险'), b.translate('三')]);
    release();
    await first;
    const [two, risky, three] = await results;
    expect(two).toEqual({ status: 'fulfilled', value: 'Two' });
    expect(risky).toMatchObject({ status: 'rejected', reason: { code: '20003' } });
    expect(three).toEqual({ status: 'fulfilled', value: 'Three' });
    expect(baidu.requests.map((r) => r.lines)).toEqual([['一'], ['二', '危险', '三'], ['二'], ['危险'], ['三']]);
  });
});

describe('PromptTranslator', () => {
  it('translates only the Chinese prose, keeping URLs, weights and parameters, and --no on its own line', async () => {
    const translator = new PromptTranslator(batcher());
    const result = await translator.translate(parsePrompt('https://example.com/a.png 热狗::2 动物::-0.5 --no 文字，水印 --ar 16：9'));
    expect(result).toMatchObject({ status: 'translated', upstream: 'https://example.com/a.png hot dog::2 animal::-0.5 --no text, watermark --ar 16:9' });
    expect(baidu.requests.map((r) => r.lines)).toEqual([['热狗', '动物', '文字，水印']]);
  });

  it('answers from the cache without a request, and asks once for a line two prompts share', async () => {
    const translator = new PromptTranslator(batcher());
    const pieces = parsePrompt('一只可爱的猫 --ar 16：9 --v 6');
    expect(translator.cached(pieces)).toBeUndefined();
    const [a, b] = await Promise.all([translator.translate(pieces), translator.translate(parsePrompt('一只可爱的猫 --v 5'))]);
    expect(a.upstream).toBe('a cute cat --ar 16:9 --v 6');
    expect(b.upstream).toBe('a cute cat --v 5');
    expect(baidu.requests.map((r) => r.lines)).toEqual([['一只可爱的猫']]);
    expect(translator.cached(pieces)).toMatchObject({ status: 'translated', upstream: 'a cute cat --ar 16:9 --v 6' });
    expect(baidu.requests).toHaveLength(1);
  });

  it('sends the text as typed (parameters normalised) when Baidu fails for good', async () => {
    baidu.inject('54001');
    const result = await new PromptTranslator(batcher()).translate(parsePrompt('一只可爱的猫 --ar 16：9'));
    expect(result).toMatchObject({ status: 'failed', upstream: '一只可爱的猫 --ar 16:9' });
  });

  it('without Baidu credentials, answers at once: not configured', () => {
    expect(new PromptTranslator(undefined).cached(parsePrompt('一只猫 ——ar 16：9'))).toMatchObject({ status: 'notConfigured', upstream: '一只猫 --ar 16:9' });
  });

  it('does not ask Baidu about a prompt without Han characters', () => {
    expect(new PromptTranslator(batcher()).cached(parsePrompt('a cat --ar 16：9'))).toMatchObject({ status: 'none', upstream: 'a cat --ar 16:9' });
    expect(baidu.requests).toHaveLength(0);
  });

  it.each([
    ['A cute cat.', 'a cute cat'],
    ['Cute cat', 'cute cat'],
    ['NASA rocket', 'NASA rocket'],
    ['I love cats', 'I love cats'],
    ['McDonald restaurant', 'McDonald restaurant'],
    ['Wait...', 'wait...'],
  ])('tidies Baidu sentence case: %j → %j', (english, tidy) => {
    expect(tidyTranslation(english)).toBe(tidy);
  });
});

describe('LruCache', () => {
  it('forgets the least recently used entry beyond its bound', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.size]).toEqual([1, undefined, 3, 2]);
  });
});
