// The bot's own HTTP server: relay callbacks (push), /healthz and /metrics. Callbacks carry the task id and an
// unguessable per-task token in the path; anything else is refused without touching the database twice.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import { readBody } from './body.ts';
import { RateLimiter } from './rate-limit.ts';
import type { TaskRepo } from '../tasks/repo.ts';
import type { Tracker } from '../tasks/tracker.ts';
import type { Accounts } from '../upstream/accounts.ts';
import type { UpstreamJob } from '../upstream/provider.ts';

/** Relay callbacks are a few KB; a larger body is not one of them. */
export const MAX_CALLBACK_BYTES = 256 * 1024;
export const CALLBACK_PATH = '/upstream/callback';
/**
 * Relays with one webhook per account (set in their dashboard) post to `/upstream/account/<account id>/<secret>`,
 * authenticated by UPSTREAM_WEBHOOK_SECRET. `/upstream/account/<secret>` (no account) is the older form, still
 * accepted when exactly one account is configured.
 */
export const ACCOUNT_WEBHOOK_PATH = '/upstream/account';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface HttpDeps {
  repo: TaskRepo;
  tracker: Tracker;
  accounts: Accounts;
  log: Logger;
  /** Unset: the account-wide webhook route is closed. */
  accountWebhookSecret?: string;
  /** For /healthz: whether the gateway is connected and the database answers. */
  health: () => Promise<Health>;
  /** For /metrics: the Prometheus text and its content type. */
  metrics: () => Promise<{ contentType: string; body: string }>;
  /** The Vary (Region) editor under /edit/ (src/editor): answers and returns true for its own paths. */
  editor?: { handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> };
}

export interface Health {
  gateway: boolean;
  database: boolean;
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Reads a JSON body within the size cap; answers the error itself and returns undefined when it cannot. */
async function readJson(req: IncomingMessage, res: ServerResponse): Promise<{ body: unknown } | undefined> {
  if (req.method !== 'POST') return void send(res, 405, { error: 'method not allowed' });
  const raw = await readBody(req, MAX_CALLBACK_BYTES);
  if (!raw) return void send(res, 413, { error: 'body too large' });
  try {
    return { body: JSON.parse(raw.toString('utf8')) };
  } catch {
    return void send(res, 400, { error: 'body is not JSON' });
  }
}

async function applyJob(deps: HttpDeps, res: ServerResponse, taskId: string, job: UpstreamJob) {
  const outcome = await deps.tracker.applyPushed(taskId, job);
  deps.log.debug({ taskId, outcome, status: job.status, progress: job.progress }, 'callback received');
  // 200 even when ignored: relays that retry on anything else (TTApi) must not resend a duplicate.
  return send(res, 200, { ok: true, outcome });
}

async function handleCallback(deps: HttpDeps, req: IncomingMessage, res: ServerResponse, taskId: string, token: string) {
  const read = await readJson(req, res);
  if (!read) return;
  if (!UUID.test(taskId)) return send(res, 404, { error: 'unknown task' });
  const task = await deps.repo.get(taskId);
  if (!task?.callbackToken || !sameSecret(task.callbackToken, token)) return send(res, 404, { error: 'unknown task' });
  const job = deps.accounts.providerFor(task).parseWebhook?.(read.body);
  if (!job) return send(res, 400, { error: 'not a job update' });
  return applyJob(deps, res, task.id, job);
}

/**
 * One webhook for a whole relay account: the secret is the operator's, the route names the account, and only that
 * account's adapter reads the body and only its jobs match (a relay can never push into another relay's jobs).
 */
async function handleAccountWebhook(deps: HttpDeps, req: IncomingMessage, res: ServerResponse, accountId: string | undefined, secret: string) {
  const read = await readJson(req, res);
  if (!read) return;
  if (!deps.accountWebhookSecret || !sameSecret(deps.accountWebhookSecret, secret)) return send(res, 404, { error: 'not found' });
  // The old route names no account: only unambiguous with a single one.
  const account = accountId === undefined ? (deps.accounts.list.length === 1 ? deps.accounts.primary : undefined) : deps.accounts.get(accountId);
  if (!account) return send(res, 404, { error: 'not found' });
  const { outcome, job, taskId } = await deps.tracker.applyAccountPush(account, read.body);
  if (outcome === 'unreadable') return send(res, 400, { error: 'not a job update' });
  deps.log.debug({ taskId, account: account.id, outcome, status: job?.status, progress: job?.progress }, 'callback received');
  // Jobs started outside this bot, or already finished, share the account's webhook: acknowledge and move on.
  return send(res, 200, { ok: true, outcome });
}

/**
 * Per client address on the webhook routes: a relay sends a few requests per job, so 200 in a burst and 50 a
 * second is far above any real use. A request refused for a bad secret or an unknown task costs 10 tokens:
 * guessing secrets stops after a few dozen tries.
 */
const WEBHOOK_BURST = 200;
const WEBHOOK_PER_SECOND = 50;
const REFUSED_COST = 10;

export function createHttpServer(deps: HttpDeps): Server {
  const limiter = new RateLimiter(WEBHOOK_BURST, WEBHOOK_PER_SECOND);
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean);
    const client = req.socket.remoteAddress ?? 'unknown';
    // The editor's links carry secrets too: guessing them is rate limited the same way.
    const webhook = url.pathname.startsWith(`${CALLBACK_PATH}/`) || url.pathname.startsWith(`${ACCOUNT_WEBHOOK_PATH}/`) || url.pathname.startsWith('/edit/');
    if (webhook) {
      if (!limiter.take(client)) return void send(res.setHeader('retry-after', '1'), 429, { error: 'too many requests' });
      // Refusals (404 for a wrong secret or task) cost more, so guessing is slow.
      res.on('finish', () => {
        if (res.statusCode === 404) limiter.take(client, REFUSED_COST);
      });
    }
    const run = async () => {
      if (url.pathname === '/healthz') {
        const health = await deps.health();
        const ok = health.gateway && health.database;
        // 503 tells an orchestrator to restart (or not route to) this instance.
        return send(res, ok ? 200 : 503, { ok, ...health });
      }
      if (url.pathname === '/metrics') {
        const metrics = await deps.metrics();
        return void res.writeHead(200, { 'content-type': metrics.contentType }).end(metrics.body);
      }
      if (`/${parts[0]}/${parts[1]}` === CALLBACK_PATH && parts.length === 4) return handleCallback(deps, req, res, parts[2]!, parts[3]!);
      if (`/${parts[0]}/${parts[1]}` === ACCOUNT_WEBHOOK_PATH && parts.length === 3) return handleAccountWebhook(deps, req, res, undefined, parts[2]!);
      if (`/${parts[0]}/${parts[1]}` === ACCOUNT_WEBHOOK_PATH && parts.length === 4) return handleAccountWebhook(deps, req, res, decodeURIComponent(parts[2]!), parts[3]!);
      if (deps.editor && (await deps.editor.handle(req, res, url.pathname))) return;
      return send(res, 404, { error: 'not found' });
    };
    run().catch((err) => {
      deps.log.error({ err }, 'http handler failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });
}

export async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}
