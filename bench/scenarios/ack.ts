// 1. Acknowledgement: a burst of /draw at a steady rate from distinct users (so no per-user limit refuses
// any), against the bot as shipped (simulator, default settings). Latency runs from the moment the fake Discord
// sends INTERACTION_CREATE on the gateway to the moment the bot's interaction callback has fully arrived.
import { startBenchBot } from '../lib/bot.ts';
import { createBenchDatabase, type DbKind } from '../lib/database.ts';
import { FakesHost } from '../lib/host.ts';
import type { Row, ScenarioResult } from '../lib/report.ts';
import { cpuMsOfAll } from '../lib/proc.ts';
import { fmt, max, percentile, sleep } from '../lib/stats.ts';

export interface AckOptions {
  db: DbKind;
  count: number;
  perSecond: number;
}

const TARGET_P99_MS = 100;

export async function ackScenario(opts: AckOptions): Promise<ScenarioResult> {
  const database = await createBenchDatabase(opts.db);
  const { host, fakes } = await FakesHost.start({});
  try {
    const bot = await startBenchBot({ ...fakes.discordEnv, ...database.env });
    try {
      await host.mark();
      const cpuBefore = bot.cpuMs();
      const pgCpuBefore = opts.db === 'postgres' ? cpuMsOfAll('postgres') : 0;
      const burst = await host.burst({ count: opts.count, perSecond: opts.perSecond, prompt: 'bench ack {i}' });
      // Every /draw answered (late answers are still timed: Discord would have refused them), or 30 s more.
      const deadline = Date.now() + 30_000;
      let traces = await host.traces();
      while (traces.some((t) => t.ackAt === undefined) && Date.now() < deadline) {
        await sleep(100);
        traces = await host.traces();
      }
      const cpuMs = bot.cpuMs() - cpuBefore;
      // The PostgreSQL server's work for the bot (on PGlite it is inside the bot's own CPU time).
      const pgCpuMs = opts.db === 'postgres' ? cpuMsOfAll('postgres') - pgCpuBefore : Number.NaN;
      const health = await host.health();
      const rest = await host.rest();
      const acked = traces.filter((t) => t.ackAt !== undefined);
      // A /draw never answered counts as infinitely late.
      const latencies = traces.map((t) => (t.ackAt === undefined ? Number.POSITIVE_INFINITY : t.ackAt - t.sentAt));
      const deferred = acked.filter((t) => t.callbackType === 5).length;
      const late = latencies.filter((ms) => ms > 3000 && Number.isFinite(ms)).length;
      const p50 = percentile(latencies, 50);
      const p99 = percentile(latencies, 99);
      const scenario = '1 acknowledgement';
      const rows: Row[] = [
        { scenario, measure: `ack p50, ${opts.count} /draw at ${opts.perSecond}/s`, db: opts.db, value: Number.isFinite(p50) ? `${fmt(p50, 0)} ms` : 'not answered' },
        {
          scenario,
          measure: `ack p99, ${opts.count} /draw at ${opts.perSecond}/s`,
          db: opts.db,
          value: Number.isFinite(p99) ? `${fmt(p99, 0)} ms (max ${Number.isFinite(max(latencies)) ? fmt(max(latencies), 0) : 'never'})` : 'not answered',
          // The target is for the burst of 200 per second; slower runs are context.
          ...(opts.perSecond >= 200 && { target: `< ${TARGET_P99_MS} ms`, met: p99 < TARGET_P99_MS && acked.length === opts.count }),
        },
      ];
      const notes = [
        `1 ${opts.db}: ${acked.length}/${opts.count} acknowledged (${deferred} deferred, ${acked.length - deferred} answered otherwise), ` +
          `${late} of them after Discord's 3 s (refused: the user sees "The application did not respond"); the burst took ${burst.durationMs} ms (the host's worst lag behind schedule ${burst.maxLagMs} ms); ` +
          `bot CPU during the burst ${fmt(cpuMs, 0)} ms (${fmt(cpuMs / opts.count, 2)} ms per /draw)${opts.db === 'postgres' ? `, PostgreSQL server CPU ${fmt(pgCpuMs, 0)} ms (${fmt(pgCpuMs / opts.count, 2)} ms per /draw)` : ''}; fakes host event-loop delay p99 ${fmt(health.loopDelayP99Ms, 1)} ms, ` +
          `max ${fmt(health.loopDelayMaxMs, 1)} ms; REST calls seen: ${JSON.stringify(rest.byKind)}` +
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
