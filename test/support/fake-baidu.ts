// A fake Baidu Translate (general text API) at the protocol level: a real HTTP server on 127.0.0.1 that takes
// form-urlencoded GET or POST requests, checks the signature and the parameters the way Baidu does, answers
// HTTP 200 with `{from, to, trans_result:[{src, dst}]}` or `{error_code, error_msg}`, and enforces the
// plan's rate (54003) like the standard tier. Tests give it a dictionary, inject error codes, and can hold
// answers back to see what queues up behind a request.
//
//   const baidu = await FakeBaidu.start({ dictionary: { 一只可爱的猫: 'A cute cat' } });
//   // bot env: BAIDU_APP_ID=baidu.appId BAIDU_SECRET=baidu.secret BAIDU_API_URL=baidu.url
//   baidu.inject('54003');              // the next request is rate limited
//   const release = baidu.hold();       // answers wait until release()
//   baidu.assertNoViolations();         // bad signatures, rate-limit breaches
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const PATH = '/api/trans/vip/translate';

/** Baidu's own error messages for the documented codes. */
export const ERROR_MESSAGES: Readonly<Record<string, string>> = {
  '52001': 'TIMEOUT',
  '52002': 'SYSTEM ERROR',
  '52003': 'UNAUTHORIZED USER',
  '54000': 'PARAM_FROM_TO_OR_Q_EMPTY',
  '54001': 'Invalid Sign',
  '54003': 'Invalid Access Limit',
  '54004': 'Insufficient balance',
  '54005': 'Long query too frequently',
  '58000': 'Invalid Client IP',
  '58001': 'Unsupported language direction',
  '58002': 'Service closed',
  '58003': 'IP banned for today',
  '90107': 'Authentication not passed or not effective',
  '20003': 'Content security risk',
};

const LANGUAGES = new Set(['auto', 'zh', 'en', 'yue', 'wyw', 'jp', 'kor', 'fra', 'spa', 'th', 'ara', 'ru', 'pt', 'de', 'it', 'el', 'nl', 'pl', 'cht', 'vie']);

export interface FakeBaiduOptions {
  appId?: string;
  secret?: string;
  /** Source line → English. Lines not in it come back as `EN<line>`. */
  dictionary?: Record<string, string>;
  /** Requests per second allowed; faster requests get 54003 and count as a violation. Infinity: no limit. */
  qps?: number;
  /** Lines Baidu refuses to translate (20003, content security risk) — the whole request fails. */
  risky?: string[];
}

export interface BaiduRequest {
  at: number;
  method: string;
  params: Record<string, string>;
  /** `q` split into lines. */
  lines: string[];
  /** What was answered: `trans_result`, or the error code. */
  answer: { lines: string[] } | { error: string };
}

export class FakeBaidu {
  readonly appId: string;
  readonly secret: string;
  readonly dictionary: Map<string, string>;
  readonly risky: Set<string>;
  readonly requests: BaiduRequest[] = [];
  readonly violations: string[] = [];
  private readonly qps: number;
  private readonly injected: string[] = [];
  private holds: Array<Promise<void>> = [];
  private waiters = new Set<() => void>();
  private lastAnswerAt = -Infinity;

  private constructor(
    private readonly server: Server,
    options: FakeBaiduOptions,
  ) {
    this.appId = options.appId ?? '20240101000000001';
    this.secret = options.secret ?? 'fake-baidu-secret';
    this.dictionary = new Map(Object.entries(options.dictionary ?? {}));
    this.qps = options.qps ?? 1;
    this.risky = new Set(options.risky ?? []);
  }

  static async start(options: FakeBaiduOptions = {}): Promise<FakeBaidu> {
    let fake: FakeBaidu | undefined;
    const server = createServer((req, res) => void fake!.onRequest(req, res));
    fake = new FakeBaidu(server, options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${PATH}`;
  }

  /** The bot environment that points at this fake. */
  get env(): Record<string, string> {
    return { BAIDU_APP_ID: this.appId, BAIDU_SECRET: this.secret, BAIDU_API_URL: this.url };
  }

  /** The next `times` valid requests are answered with this error code. */
  inject(code: string, times = 1): void {
    for (let i = 0; i < times; i++) this.injected.push(code);
  }

  /** Answers wait until the returned function is called (requests are still received and recorded). */
  hold(): () => void {
    let release!: () => void;
    this.holds.push(new Promise<void>((r) => (release = r)));
    return release;
  }

  async waitForRequests(n: number, timeoutMs = 20_000): Promise<BaiduRequest[]> {
    return this.waitUntil(() => (this.requests.length >= n ? this.requests.slice(0, n) : undefined), timeoutMs, () => `${n} Baidu requests (seen ${this.requests.length})`);
  }

  /** Every line ever asked for, in order. */
  linesSeen(): string[] {
    return this.requests.flatMap((r) => r.lines);
  }

  assertNoViolations(): void {
    if (this.violations.length > 0) throw new Error(`Baidu protocol violations:\n${this.violations.join('\n')}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private waitUntil<T>(check: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = () => {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        reject(new Error(`timed out waiting for ${describe()}`));
      }, timeoutMs);
      this.waiters.add(done);
      done();
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== PATH) return this.send(res, 404, { error: 'not found' });
    if (req.method !== 'GET' && req.method !== 'POST') return this.send(res, 405, { error: 'method not allowed' });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    if (req.method === 'POST') {
      const type = req.headers['content-type'] ?? '';
      if (!type.startsWith('application/x-www-form-urlencoded')) {
        this.violations.push(`POST with content-type "${type}" (Baidu wants application/x-www-form-urlencoded)`);
      }
      Object.assign(params, Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    }
    const at = Date.now();
    const record: BaiduRequest = { at, method: req.method, params, lines: (params.q ?? '').split('\n'), answer: { error: '' } };
    this.requests.push(record);
    this.notify();

    const holds = this.holds;
    await Promise.all(holds);
    this.holds = this.holds.filter((h) => !holds.includes(h));

    const answer = this.answer(record);
    record.answer = 'error' in answer ? { error: answer.error } : { lines: answer.dst };
    this.lastAnswerAt = Date.now();
    this.notify();
    if ('error' in answer) return this.send(res, 200, { error_code: answer.error, error_msg: ERROR_MESSAGES[answer.error] ?? 'error' });
    return this.send(res, 200, {
      from: params.from === 'auto' ? 'zh' : params.from,
      to: params.to,
      trans_result: record.lines.map((src, i) => ({ src, dst: answer.dst[i] })),
    });
  }

  private answer(r: BaiduRequest): { error: string } | { dst: string[] } {
    const { q, from, to, appid, salt, sign } = r.params;
    if (!q || !from || !to || !appid || !salt || !sign) {
      this.violations.push(`request without ${['q', 'from', 'to', 'appid', 'salt', 'sign'].filter((k) => !r.params[k]).join(', ')}`);
      return { error: '54000' };
    }
    if (appid !== this.appId) return { error: '52003' };
    const expected = createHash('md5').update(appid + q + salt + this.secret, 'utf8').digest('hex');
    if (sign !== expected) {
      this.violations.push(`bad signature ${sign} for salt ${salt} (expected ${expected})`);
      return { error: '54001' };
    }
    if (!LANGUAGES.has(from) || !LANGUAGES.has(to) || to === 'auto') return { error: '58001' };
    // The plan's rate, counted from the previous answer: a client that waits 1/qps after each answer never trips it.
    const sinceLast = r.at - this.lastAnswerAt;
    if (Number.isFinite(this.qps) && sinceLast < 1000 / this.qps) {
      this.violations.push(`request ${sinceLast} ms after the previous answer (plan allows ${this.qps}/s)`);
      return { error: '54003' };
    }
    const injected = this.injected.shift();
    if (injected) return { error: injected };
    if (r.lines.some((l) => l.trim() === '')) this.violations.push('an empty line in q');
    if (r.lines.some((l) => this.risky.has(l.trim()))) return { error: '20003' };
    return { dst: r.lines.map((l) => this.dictionary.get(l.trim()) ?? `EN<${l.trim()}>`) };
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  }
}
