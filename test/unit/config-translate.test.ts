import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

const load = (env: Record<string, string>) => loadConfig({ DISCORD_TOKEN: 't', ...env } as NodeJS.ProcessEnv);

describe('config: translation and banned words', () => {
  it('defaults to Baidu\'s standard tier rate and no extra banned words', () => {
    const c = load({});
    expect(c.BAIDU_QPS).toBe(1);
    expect(c.BANNED_WORDS_FILE).toBeUndefined();
    expect(c.BAIDU_API_URL).toBe('https://fanyi-api.baidu.com/api/trans/vip/translate');
  });

  it.each([
    [{ BAIDU_QPS: '0' }, /^Configuration error: BAIDU_QPS must be at least 1\.$/],
    [{ BAIDU_QPS: 'fast' }, /BAIDU_QPS must be a whole number/],
    [{ BANNED_WORDS_FILE: '/nonexistent/words.txt' }, /^Configuration error: BANNED_WORDS_FILE names a file that does not exist\.$/],
    [{ BAIDU_APP_ID: '20240101000000001' }, /^Configuration error: BAIDU_SECRET is not set — set both BAIDU_APP_ID and BAIDU_SECRET, or neither — both are under 开发者信息/],
    [{ BAIDU_SECRET: 's' }, /^Configuration error: BAIDU_APP_ID is not set/],
  ])('rejects %j', (env, message) => {
    expect(() => load(env)).toThrow(message);
  });

  it('accepts both Baidu credentials, a faster plan and an existing file', () => {
    const c = load({ BAIDU_APP_ID: 'id', BAIDU_SECRET: 's', BAIDU_QPS: '10', BANNED_WORDS_FILE: 'package.json' });
    expect(c).toMatchObject({ BAIDU_APP_ID: 'id', BAIDU_SECRET: 's', BAIDU_QPS: 10, BANNED_WORDS_FILE: 'package.json' });
  });
});
