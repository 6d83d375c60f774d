// Baidu Translate's general text API: one signed, form-encoded request per batch of lines, one result per line.
// Baidu reports errors with HTTP 200 and an `error_code`; each documented code is mapped here to what the
// bot should do about it (retry, or tell the operator what to fix).
import { createHash, randomInt } from 'node:crypto';
import { translationRequests } from '../metrics.ts';

export interface BaiduConfig {
  appId: string;
  secret: string;
  apiUrl: string;
}

/** `md5(appid + q + salt + secret)` over the raw text (not URL-encoded), lowercase hex. */
export function baiduSign(appId: string, q: string, salt: string, secret: string): string {
  return createHash('md5').update(appId + q + salt + secret, 'utf8').digest('hex');
}

/**
 * transient: try again later (with backoff). config: the operator must fix the account or the settings.
 * content: this text cannot be translated (in a batch, the other lines deserve a request of their own).
 */
export type BaiduErrorKind = 'transient' | 'config' | 'content';

interface ErrorInfo {
  kind: BaiduErrorKind;
  meaning: string;
  /** What the operator should do, for the log. */
  hint: string;
  /** Baidu asks for a pause before retrying (54005: 3 s). */
  retryAfterMs?: number;
}

export const BAIDU_ERRORS: Readonly<Record<string, ErrorInfo>> = {
  '52001': { kind: 'transient', meaning: 'request timed out', hint: 'retried automatically' },
  '52002': { kind: 'transient', meaning: 'Baidu system error', hint: 'retried automatically' },
  '52003': { kind: 'config', meaning: 'unauthorized user', hint: 'check BAIDU_APP_ID and that the general text translation service is enabled for it' },
  '54000': { kind: 'content', meaning: 'a required parameter is empty', hint: 'the bot sent an empty line; please report this' },
  '54001': { kind: 'config', meaning: 'invalid signature', hint: 'check BAIDU_SECRET (the 密钥 under 开发者信息, not the APP ID)' },
  '54003': { kind: 'transient', meaning: 'access frequency limited', hint: 'lower BAIDU_QPS to your plan (standard tier: 1)' },
  '54004': { kind: 'config', meaning: 'insufficient account balance', hint: 'top up the Baidu Translate account or upgrade its plan' },
  '54005': { kind: 'transient', meaning: 'long queries sent too often', hint: 'retried after 3 s', retryAfterMs: 3000 },
  '58000': { kind: 'config', meaning: 'client IP not allowed', hint: "add this server's public IP to the app's server address list in the Baidu console, or clear the list" },
  '58001': { kind: 'config', meaning: 'translation direction not supported', hint: 'the plan does not offer Chinese to English' },
  '58002': { kind: 'config', meaning: 'service is closed', hint: 'enable general text translation in the Baidu console' },
  '58003': { kind: 'config', meaning: 'IP banned for today', hint: 'one IP sent requests with several APP IDs; use a single BAIDU_APP_ID per server' },
  '90107': { kind: 'config', meaning: 'authentication not passed or not yet effective', hint: 'finish identity verification in the Baidu console and wait for it to take effect' },
  '20003': { kind: 'content', meaning: 'content refused for security reasons', hint: 'the prompt was sent untranslated' },
};

export class BaiduError extends Error {
  readonly kind: BaiduErrorKind;
  readonly hint: string;
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly code: string,
    detail: string,
    info: ErrorInfo = BAIDU_ERRORS[code] ?? { kind: 'config', meaning: 'unknown error', hint: 'see the Baidu Translate error code list' },
  ) {
    super(`Baidu Translate ${code}: ${info.meaning}${detail ? ` (${detail})` : ''}`);
    this.name = 'BaiduError';
    this.kind = info.kind;
    this.hint = info.hint;
    this.retryAfterMs = info.retryAfterMs;
  }
}

/** Network trouble and answers that are not Baidu's JSON: retried like Baidu's own transient errors. */
const transport = (code: string, detail: string, kind: BaiduErrorKind = 'transient') =>
  new BaiduError(code, detail, { kind, meaning: 'Baidu Translate could not be reached', hint: 'check BAIDU_API_URL and the network' });

const REQUEST_TIMEOUT_MS = 10_000;

export class BaiduClient {
  constructor(private readonly config: BaiduConfig) {}

  /** Translates each line from Chinese to English in one request. Lines must not contain line breaks. */
  async translate(lines: readonly string[]): Promise<string[]> {
    try {
      const out = await this.request(lines);
      translationRequests.inc({ outcome: 'ok' });
      return out;
    } catch (err) {
      translationRequests.inc({ outcome: err instanceof BaiduError ? err.code : 'error' });
      throw err;
    }
  }

  private async request(lines: readonly string[]): Promise<string[]> {
    const q = lines.join('\n');
    const salt = String(randomInt(1, 2 ** 31));
    const body = new URLSearchParams({ q, from: 'zh', to: 'en', appid: this.config.appId, salt, sign: baiduSign(this.config.appId, q, salt, this.config.secret) });

    let res: Response;
    try {
      res = await fetch(this.config.apiUrl, { method: 'POST', body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (err) {
      throw transport('NETWORK', err instanceof Error ? err.message : String(err));
    }
    if (!res.ok) {
      await res.body?.cancel();
      // A 4xx from Baidu's address means a wrong URL, not a passing hiccup.
      throw transport(`HTTP_${res.status}`, res.statusText, res.status >= 500 || res.status === 429 ? 'transient' : 'config');
    }
    let data: { error_code?: unknown; error_msg?: unknown; trans_result?: unknown };
    try {
      data = (await res.json()) as typeof data;
    } catch {
      throw transport('BAD_RESPONSE', 'the answer is not JSON');
    }
    if (data.error_code !== undefined && String(data.error_code) !== '52000') {
      throw new BaiduError(String(data.error_code), typeof data.error_msg === 'string' ? data.error_msg : '');
    }
    const results = Array.isArray(data.trans_result) ? (data.trans_result as Array<{ dst?: unknown }>) : [];
    if (results.length !== lines.length || results.some((r) => typeof r?.dst !== 'string')) {
      // Lines and results no longer pair up; sending the lines one by one settles which is which.
      throw new BaiduError('BAD_RESPONSE', `${results.length} results for ${lines.length} lines`, {
        kind: 'content',
        meaning: 'unexpected answer',
        hint: 'the lines are retried one by one',
      });
    }
    return results.map((r) => r.dst as string);
  }
}
