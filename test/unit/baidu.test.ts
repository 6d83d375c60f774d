// The Baidu client against the fake Baidu (a real HTTP server speaking Baidu's wire format).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAIDU_ERRORS, BaiduClient, BaiduError, baiduSign, type BaiduErrorKind } from '../../src/translate/baidu.ts';
import { ERROR_MESSAGES, FakeBaidu } from '../support/fake-baidu.ts';

let baidu: FakeBaidu;
let client: BaiduClient;

beforeAll(async () => {
  baidu = await FakeBaidu.start({ qps: Infinity, dictionary: { 一只可爱的猫: 'A cute cat', 苹果: 'Apple' } });
  client = new BaiduClient({ appId: baidu.appId, secret: baidu.secret, apiUrl: baidu.url });
});
afterAll(() => baidu?.close());

async function failure(promise: Promise<unknown>): Promise<BaiduError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(BaiduError);
  return err as BaiduError;
}

describe('Baidu Translate client', () => {
  it("signs with md5(appid + q + salt + secret): Baidu's official vector", () => {
    expect(baiduSign('2015063000000001', 'apple', '1435660288', '12345678')).toBe('f89f9594663708c1605f3d736d01d2d4');
  });

  it('sends the lines as one signed, form-encoded request from zh to en and reads one result per line', async () => {
    const before = baidu.requests.length;
    expect(await client.translate(['一只可爱的猫', '苹果 & 梨'])).toEqual(['A cute cat', 'EN<苹果 & 梨>']);
    const req = baidu.requests[before]!;
    expect(req.method).toBe('POST');
    expect(req.params).toMatchObject({ from: 'zh', to: 'en', appid: baidu.appId, q: '一只可爱的猫\n苹果 & 梨' });
    baidu.assertNoViolations();
  });

  const KINDS: Record<string, BaiduErrorKind> = {
    '52001': 'transient', '52002': 'transient', '54003': 'transient', '54005': 'transient',
    '52003': 'config', '54001': 'config', '54004': 'config', '58000': 'config', '58001': 'config', '58002': 'config',
    '58003': 'config', '90107': 'config', '54000': 'content', '20003': 'content',
  };

  it('maps every documented error code', () => {
    expect(Object.keys(BAIDU_ERRORS).sort()).toEqual(Object.keys(ERROR_MESSAGES).sort());
  });

  it.each(Object.entries(KINDS))('reads error %s (sent with HTTP 200) as %s', async (code, kind) => {
    baidu.inject(code);
    const err = await failure(client.translate(['苹果']));
    expect(err).toMatchObject({ code, kind });
    expect(err.message).toContain(ERROR_MESSAGES[code]);
    expect(err.hint.length).toBeGreaterThan(0);
  });

  it('gets a real 54001 with the wrong secret, and 52003 with an unknown APP ID', async () => {
    const wrongSecret = new BaiduClient({ appId: baidu.appId, secret: 'nope', apiUrl: baidu.url });
    expect(await failure(wrongSecret.translate(['苹果']))).toMatchObject({ code: '54001', kind: 'config' });
    baidu.violations.length = 0;
    const wrongId = new BaiduClient({ appId: '1', secret: baidu.secret, apiUrl: baidu.url });
    expect(await failure(wrongId.translate(['苹果']))).toMatchObject({ code: '52003', kind: 'config' });
  });

  it('reads a wrong URL as a configuration error and an unreachable one as transient', async () => {
    const wrongPath = new BaiduClient({ appId: baidu.appId, secret: baidu.secret, apiUrl: baidu.url.replace('/translate', '/nope') });
    expect(await failure(wrongPath.translate(['苹果']))).toMatchObject({ code: 'HTTP_404', kind: 'config' });
    const closed = new BaiduClient({ appId: baidu.appId, secret: baidu.secret, apiUrl: 'http://127.0.0.1:9/api/trans/vip/translate' });
    expect(await failure(closed.translate(['苹果']))).toMatchObject({ code: 'NETWORK', kind: 'transient' });
  });

  it('the fake speaks the wire format: GET with a query string, errors with HTTP 200', async () => {
    const salt = '42';
    const q = '苹果';
    const params = new URLSearchParams({ q, from: 'zh', to: 'en', appid: baidu.appId, salt, sign: baiduSign(baidu.appId, q, salt, baidu.secret) });
    const ok = await fetch(`${baidu.url}?${params}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ from: 'zh', to: 'en', trans_result: [{ src: '苹果', dst: 'Apple' }] });
    params.set('sign', '0'.repeat(32));
    const bad = await fetch(`${baidu.url}?${params}`);
    expect(bad.status).toBe(200);
    expect(await bad.json()).toEqual({ error_code: '54001', error_msg: 'Invalid Sign' });
    baidu.violations.length = 0;
  });
});
