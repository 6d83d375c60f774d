// A real pino logger that keeps its JSON lines in memory, for tests that check what the operator would read.
import pino from 'pino';
import type { Logger } from '../../src/log.ts';

export interface MemoryLog {
  log: Logger;
  lines: Array<{ level: number; msg: string; [key: string]: unknown }>;
}

export function memoryLog(): MemoryLog {
  const lines: MemoryLog['lines'] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}
