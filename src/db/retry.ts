// A database step that must not be lost to a database restart (it records something that already happened
// outside: a job the relay accepted, a message Discord shows). Retried for about two minutes, then thrown.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.ts';

const DELAYS_MS = [250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 30_000, 30_000];

export async function retryDatabase<T>(
  step: () => Promise<T>,
  opts: { log: Logger; context: Record<string, unknown>; passThrough?: (err: unknown) => boolean; delaysMs?: readonly number[] },
): Promise<T> {
  const delays = opts.delaysMs ?? DELAYS_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (opts.passThrough?.(err) || attempt >= delays.length) throw err;
      opts.log.warn({ err, ...opts.context, attempt: attempt + 1 }, 'database step failed; retrying');
      await sleep(delays[attempt]!);
    }
  }
}

/** SQLSTATE classes and driver codes that mean "the server went away or is not ready", not "this statement is wrong". */
const CONNECTION_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03']);

/** Whether the error (or what drizzle wrapped) is a lost or refused connection: worth retrying as is. */
export function isConnectionError(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = String((e as { code?: unknown }).code ?? '');
    if (CONNECTION_CODES.has(code) || code.startsWith('08')) return true;
  }
  return false;
}
