// 2. Cost per job: /draws at a rate the bot keeps up with, all running at once on a relay with live progress
// (TTApi's wire format, a progress step every 2 s, about a minute per job, a small result image), progress
// edits at most every 3 s (the default). Measured from outside the bot: its CPU time (/proc/<pid>/stat) and
// peak resident memory (VmHWM) over the run, and every REST call the fake Discord received, per completed job.
import { freePort } from '../../test/support/bot.ts';
import { startBenchBot } from '../lib/bot.ts';
import { createBenchDatabase, type DbKind } from '../lib/database.ts';
import { FakesHost } from '../lib/host.ts';
import type { Row, ScenarioResult } from '../lib/report.ts';
import { fmt, max, mean, min, percentile, sleep } from '../lib/stats.ts';

export interface CostOptions {
  db: DbKind;
  jobs: number;
  perSecond: number;
  /** Progress steps of 2 s each a job runs through at the relay (it is queued there for one more, and done one after). */
  steps: number;
}

/** An account may run at most 100 jobs (src/config.ts): enough accounts on the one relay for every job at once. */
const PER_ACCOUNT = 100;
const EDIT_INTERVAL_MS = 3000;
/** Edits are spaced by the bot when it sends them; their arrival may jitter by this much under load. */
const JITTER_MS = 100;
/** Issue 18: peak RSS of the bot as `npm start` runs it, 2,000 jobs in flight on PostgreSQL. */
const RSS_TARGET_MB = 300;
/** Final messages never wait behind progress edits: a result reaches Discord within this of the relay's completion. */
const DELIVERY_P99_TARGET_MS = 5_000;

export async function costScenario(opts: CostOptions): Promise<ScenarioResult> {
  const database = await createBenchDatabase(opts.db);
  // Queued for one step, then `steps` steps of progress, done one step later: longer than the burst, so every job is in flight at once.
  const progress = Array.from({ length: opts.steps }, (_, i) => Math.round(((i + 1) * 100) / (opts.steps + 1)));
  const { host, fakes } = await FakesHost.start({ relay: { stepMs: 2000, progress, imageSide: 96 } });
  const relay = fakes.relay!;
  const accounts = Array.from({ length: Math.ceil(opts.jobs / PER_ACCOUNT) }, (_, i) => ({
    id: `relay-${i + 1}`,
    provider: 'ttapi',
    baseUrl: relay.url,
    apiKey: relay.apiKey,
    concurrency: PER_ACCOUNT,
  }));
  const port = await freePort();
  try {
    const bot = await startBenchBot({
      ...fakes.discordEnv,
      ...database.env,
      UPSTREAM_ACCOUNTS: JSON.stringify(accounts),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      HTTP_PORT: String(port),
      PROGRESS_EDIT_INTERVAL_MS: String(EDIT_INTERVAL_MS),
    });
    try {
      await host.mark();
      const cpuBefore = bot.cpuMs();
      const started = Date.now();
      await host.burst({ count: opts.jobs, perSecond: opts.perSecond, prompt: 'bench cost {i}' });
      // Until every result is uploaded (a job takes 20 s at the relay), or a generous limit.
      const deadline = Date.now() + 240_000;
      let traces = await host.traces();
      let rssPeakDuring = 0;
      while (traces.some((t) => t.uploadAt === undefined) && Date.now() < deadline) {
        rssPeakDuring = Math.max(rssPeakDuring, bot.memoryMb().rss);
        await sleep(500);
        traces = await host.traces();
      }
      const elapsedMs = Date.now() - started;
      const cpuMs = bot.cpuMs() - cpuBefore;
      const memory = bot.memoryMb();
      const rest = await host.rest();
      const relayStats = await host.relay();
      const health = await host.health();

      const done = traces.filter((t) => t.uploadAt !== undefined);
      const n = done.length;
      // Each job's edits of its reply before the result: how many per 3 s of its life, and the closest two.
      const gaps: number[] = [];
      const editRates: number[] = [];
      /** The pairs of edits closer than the interval, by what they showed: which edits break the spacing. */
      const close = new Map<string, number>();
      for (const t of done) {
        const edits = t.edits.filter((at) => at < t.uploadAt!);
        for (let i = 1; i < edits.length; i++) {
          const gap = edits[i]! - edits[i - 1]!;
          gaps.push(gap);
          if (gap < EDIT_INTERVAL_MS - JITTER_MS) {
            const pair = `"${t.editTexts[i - 1]}" → "${t.editTexts[i]}"`.replace(/\d+/g, 'N');
            close.set(pair, (close.get(pair) ?? 0) + 1);
          }
        }
        const life = t.uploadAt! - (t.ackAt ?? t.sentAt);
        if (life > 0) editRates.push(edits.length / (life / EDIT_INTERVAL_MS));
      }
      const editsPerJob = mean(done.map((t) => t.edits.length));
      const twice = done.filter((t) => t.uploads > 1);
      const minGap = min(gaps);
      const delivery = done.filter((t) => t.hookSentAt ?? t.relayCompletesAt).map((t) => t.uploadAt! - (t.hookSentAt ?? t.relayCompletesAt!));
      const scenario = '2 cost per job';
      const rows: Row[] = [
        { scenario, measure: `bot CPU per completed job (${opts.jobs} jobs at once)`, db: opts.db, value: `${fmt(cpuMs / n, 1)} ms` },
        { scenario, measure: 'Discord REST calls per completed job', db: opts.db, value: fmt(rest.total / n, 2) },
        {
          scenario,
          measure: 'progress edits per job per 3 s (mean; closest two edits of one job)',
          db: opts.db,
          value: `${fmt(mean(editRates), 2)}; ${fmt(minGap, 0)} ms apart`,
          target: '≤ 1 per 3 s',
          met: n > 0 && (gaps.length === 0 || minGap >= EDIT_INTERVAL_MS - JITTER_MS),
        },
        {
          scenario,
          measure: `peak RSS of the bot, ${relayStats?.maxInFlight ?? '?'} jobs in flight`,
          db: opts.db,
          value: `${fmt(memory.peak, 0)} MB`,
          target: `≤ ${RSS_TARGET_MB} MB`,
          met: memory.peak <= RSS_TARGET_MB && (relayStats?.maxInFlight ?? 0) >= opts.jobs,
        },
        {
          scenario,
          measure: 'relay completion → result upload under that load (p50 / p99)',
          db: opts.db,
          value: `${fmt(percentile(delivery, 50), 0)} / ${fmt(percentile(delivery, 99), 0)} ms`,
          target: 'p99 ≤ 5 s',
          met: delivery.length > 0 && percentile(delivery, 99) <= DELIVERY_P99_TARGET_MS && twice.length === 0,
        },
      ];
      const notes = [
        `2 ${opts.db}: ${opts.jobs} /draw at ${opts.perSecond}/s, jobs of ${(opts.steps + 2) * 2} s, a ${fmt(relay.imageBytes / 1024, 0)} KB result; ${n}/${opts.jobs} delivered in ${fmt(elapsedMs / 1000, 0)} s; bot CPU ${fmt(cpuMs / 1000, 1)} s in all; ` +
          `${fmt(editsPerJob, 2)} reply edits per job besides the result (max rate of one job ${fmt(max(editRates), 2)} per 3 s); ` +
          `RSS peak ${fmt(memory.peak, 0)} MB (sampled during the run ${fmt(rssPeakDuring, 0)} MB, at the end ${fmt(memory.rss, 0)} MB); ` +
          `relay: ${relayStats?.jobs} jobs, at most ${relayStats?.maxInFlight} at once, ${relayStats?.fetches} polls (${fmt((relayStats?.fetches ?? 0) / n, 1)} per job); ` +
          `REST calls by kind: ${JSON.stringify(rest.byKind)}; fakes host event-loop delay p99 ${fmt(health.loopDelayP99Ms, 1)} ms, CPU ${fmt(health.cpuMs / 1000, 1)} s` +
          (close.size ? `; edits closer than ${EDIT_INTERVAL_MS - JITTER_MS} ms: ${[...close].map(([pair, k]) => `${k}× ${pair}`).join(', ')}` : '') +
          `; results uploaded more than once: ${twice.length}` +
          (twice.length ? ` (e.g. ${JSON.stringify(twice.slice(0, 3).map((t) => ({ relayDone: t.relayCompletesAt, hookSent: t.hookSentAt, uploads: t.uploadTimes })))})` : '') +
          `; bot warnings: ${JSON.stringify(bot.problems())}` +
          (rest.violations.length ? `; violations: ${rest.violations.slice(0, 3).join(' | ')}` : ''),
      ];
      return { rows, notes };
    } finally {
      await bot.stop();
    }
  } finally {
    await host.stop();
    await database.destroy();
  }
}
