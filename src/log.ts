// One pino logger for the process: JSON lines, pretty-printed when a person is watching a terminal.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  const pretty = process.stdout.isTTY && !process.env.CI;
  return pino({
    level,
    base: undefined,
    // Never let a credential reach the log, whatever object a caller passes.
    redact: { paths: ['token', '*.token', 'interactionToken', '*.interactionToken', 'apiKey', '*.apiKey', 'authorization', '*.authorization'], censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
  });
}
