// One pino logger for the process: JSON lines, pretty-printed when a person is watching a terminal.
// Secrets never reach the log: known fields are redacted and URLs lose their interaction/webhook tokens.
import pino from 'pino';

export type Logger = pino.Logger;

/** `/webhooks/<id>/<token>` and `/interactions/<id>/<token>` carry credentials: keep the id, hide the token. */
export function redactUrl(url: string): string {
  return url.replace(/\/(webhooks|interactions)\/(\d+)\/[^/?#]+/g, '/$1/$2/[redacted]');
}

/** Errors as one compact object: never the request body (it holds images) nor a token-bearing URL. */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { code?: unknown; status?: unknown; method?: unknown; url?: unknown; cause?: unknown };
  return {
    type: e.name,
    message: redactUrl(e.message),
    ...(e.code !== undefined && { code: e.code }),
    ...(e.status !== undefined && { status: e.status }),
    ...(typeof e.method === 'string' && { method: e.method }),
    ...(typeof e.url === 'string' && { url: redactUrl(e.url) }),
    ...(e.cause !== undefined && { cause: serializeError(e.cause) }),
    stack: e.stack ? redactUrl(e.stack) : undefined,
  };
}

export function createLogger(level: string): Logger {
  const pretty = process.stdout.isTTY && !process.env.CI;
  return pino({
    level,
    base: undefined,
    serializers: { err: serializeError },
    redact: {
      paths: ['token', '*.token', 'interactionToken', '*.interactionToken', 'apiKey', '*.apiKey', 'authorization', '*.authorization'],
      censor: '[redacted]',
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
  });
}
