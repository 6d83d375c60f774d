// Prometheus metrics for GET /metrics (prom-client). Counters and histograms are this process's; the job
// gauges are read from the database at scrape time, so every instance reports the same, true queue.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'mj_' });

/** Jobs that ended in this process, by how and on which relay account. */
export const jobsFinished = new Counter({
  name: 'mj_jobs_finished_total',
  help: 'Jobs that ended (succeeded, failed, cancelled), by relay account',
  labelNames: ['status', 'account'] as const,
  registers: [registry],
});

/** Relay API calls: submit and poll, by account and outcome. */
export const relayLatency = new Histogram({
  name: 'mj_relay_request_duration_seconds',
  help: 'Duration of relay API calls (submit, fetch), by account and outcome',
  labelNames: ['account', 'operation', 'outcome'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const discordRestErrors = new Counter({
  name: 'mj_discord_rest_errors_total',
  help: 'Discord REST responses with an error status (429 included), by status',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const translationRequests = new Counter({
  name: 'mj_translation_requests_total',
  help: 'Baidu Translate requests, by outcome (ok, or the error code)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** Times a relay call and records it, passing its result or error through. */
export async function timeRelay<T>(account: string, operation: 'submit' | 'fetch' | 'cancel' | 'lookup', call: () => Promise<T>): Promise<T> {
  const end = relayLatency.startTimer({ account, operation });
  try {
    const value = await call();
    end({ outcome: 'ok' });
    return value;
  } catch (err) {
    end({ outcome: 'error' });
    throw err;
  }
}

type JobCounts = Array<{ status: string; account: string | null; n: number }>;
let readJobs: (() => Promise<JobCounts>) | undefined;

/** Where the job gauges come from (the app sets it once the database is open). */
export function setJobSource(read: () => Promise<JobCounts>): void {
  readJobs = read;
}

/** Jobs not finished yet, by status and account (the statuses a queue has: queued, submitted, running). */
new Gauge({
  name: 'mj_jobs',
  help: 'Jobs not finished yet, by status and relay account (queued jobs have no account yet)',
  labelNames: ['status', 'account'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const row of (await readJobs?.()) ?? []) this.set({ status: row.status, account: row.account ?? '' }, row.n);
  },
});

new Gauge({
  name: 'mj_queue_depth',
  help: 'Jobs waiting in the queue',
  registers: [registry],
  async collect() {
    const rows = (await readJobs?.()) ?? [];
    this.set(rows.filter((r) => r.status === 'queued').reduce((sum, r) => sum + r.n, 0));
  },
});
