// Keeps Baidu within its rate (standard tier: about one request per second) without making anyone wait
// longer than that: lines that arrive while a request is out or while the next slot is not due yet all go
// together in the next request, one line each. Requests are sent one at a time, the next no sooner than
// 1/qps seconds after the previous one was answered, so retries obey the rate too.
import type { Logger } from '../log.ts';
import { BaiduError } from './baidu.ts';

export interface LineTranslator {
  translate(lines: readonly string[]): Promise<string[]>;
}

export interface BatcherOptions {
  /** Requests per second allowed by the Baidu plan. */
  qps: number;
  /** Pauses before each retry of a transient error; its length is the number of retries. */
  retryDelaysMs?: readonly number[];
  /** Keep one request's text under this (Baidu's standard tier wants requests short). */
  maxBytes?: number;
}

interface Pending {
  line: string;
  /** Send alone: the batch it was in was refused because of one of its lines. */
  solo: boolean;
  resolve(value: string): void;
  reject(err: unknown): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export class TranslationBatcher {
  private readonly queue: Pending[] = [];
  private pumping = false;
  private nextAt = 0;
  private readonly intervalMs: number;
  private readonly retryDelaysMs: readonly number[];
  private readonly maxBytes: number;

  constructor(
    private readonly client: LineTranslator,
    private readonly log: Logger,
    options: BatcherOptions,
  ) {
    this.intervalMs = Math.ceil(1000 / options.qps);
    this.retryDelaysMs = options.retryDelaysMs ?? [1000, 2000, 4000];
    this.maxBytes = options.maxBytes ?? 6000;
  }

  /** Resolves with the English for one line (no line breaks), or rejects with a BaiduError. */
  translate(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ line, solo: false, resolve, reject });
      this.log.debug({ queued: this.queue.length }, 'translation queued');
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        await this.slot();
        await this.send(this.take());
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Waits for the next request slot (timers may fire a millisecond early: check the clock, not the timer). */
  private async slot(): Promise<void> {
    for (let wait = this.nextAt - Date.now(); wait > 0; wait = this.nextAt - Date.now()) await sleep(wait);
  }

  /** As many queued lines as fit in one request, oldest first; a solo line goes alone. */
  private take(): Pending[] {
    const first = this.queue.shift()!;
    const batch = [first];
    if (first.solo) return batch;
    let bytes = Buffer.byteLength(first.line);
    while (this.queue.length > 0 && !this.queue[0]!.solo) {
      const size = Buffer.byteLength(this.queue[0]!.line) + 1;
      if (bytes + size > this.maxBytes) break;
      bytes += size;
      batch.push(this.queue.shift()!);
    }
    return batch;
  }

  private async send(batch: Pending[]): Promise<void> {
    const lines = batch.map((p) => p.line);
    for (let attempt = 1; ; attempt++) {
      let error: BaiduError;
      try {
        const english = await this.client.translate(lines);
        this.nextAt = Date.now() + this.intervalMs;
        this.log.debug({ lines: lines.length, attempt }, 'translation request answered');
        batch.forEach((p, i) => p.resolve(english[i]!));
        return;
      } catch (err) {
        this.nextAt = Date.now() + this.intervalMs;
        error = err instanceof BaiduError ? err : new BaiduError('INTERNAL', String(err), { kind: 'config', meaning: 'unexpected failure', hint: 'please report this' });
      }
      const retryIn = this.retryDelaysMs[attempt - 1];
      if (error.kind === 'transient' && retryIn !== undefined) {
        const waitMs = Math.max(retryIn, error.retryAfterMs ?? 0);
        this.log.warn({ code: error.code, attempt, retryInMs: waitMs, lines: lines.length }, `${error.message}; retrying`);
        await sleep(waitMs);
        await this.slot();
        continue;
      }
      if (error.kind === 'content' && batch.length > 1) {
        // One line spoiled the batch: give every line its own request, ahead of newer arrivals.
        this.log.warn({ code: error.code, lines: lines.length }, `${error.message}; sending the lines one by one`);
        this.queue.unshift(...batch.map((p) => ({ ...p, solo: true })));
        return;
      }
      this.log.error({ code: error.code, hint: error.hint, lines: lines.length, attempts: attempt }, `${error.message} — ${error.hint}`);
      for (const p of batch) p.reject(error);
      return;
    }
  }
}
