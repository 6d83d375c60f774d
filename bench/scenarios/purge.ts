// 4. Purge of a million finished tasks on PostgreSQL (src/maintenance/purge.ts, what the cleanup, /draw-admin
// purge and `npm run purge` run), while another connection inserts a new task every ~10 ms the way /draw does
// and times each insert: the worst stall is what a user's /draw would have waited for the purge.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { tasks } from '../../src/db/schema.ts';
import { purgeTasks } from '../../src/maintenance/purge.ts';
import { seedTasks } from '../../test/support/seed.ts';
import { createBenchDatabase } from '../lib/database.ts';
import type { Row, ScenarioResult } from '../lib/report.ts';
import { fmt, max, percentile, sleep } from '../lib/stats.ts';

export interface PurgeBenchOptions {
  rows: number;
}

const STALL_TARGET_MS = 200;
const INSERT_EVERY_MS = 10;
const BASELINE_MS = 3000;

export async function purgeScenario(opts: PurgeBenchOptions): Promise<ScenarioResult> {
  const database = await createBenchDatabase('postgres');
  const main = await database.open();
  const inserter = await database.open();
  try {
    const seedStarted = Date.now();
    // Finished 40 days ago: all of them past the default 30-day retention. Seeded in chunks of 100,000 rows.
    for (let left = opts.rows; left > 0; left -= 100_000) {
      await seedTasks(main.db, { count: Math.min(100_000, left), status: 'succeeded', age: '40 days', guildId: '1300000000000000100', userId: '100000000000000009' });
    }
    // A table that grew over months has statistics; a fresh bulk load gets them from autovacuum a little later.
    await main.db.execute(sql`analyze tasks`);
    const seedMs = Date.now() - seedStarted;

    const latencies: number[] = [];
    let phaseStart = 0;
    let stopping = false;
    const loop = (async () => {
      for (let i = 0; !stopping; i++) {
        const t0 = performance.now();
        await inserter.db.insert(tasks).values({
          id: randomUUID(),
          guildId: '1300000000000000100',
          channelId: '1300000000000000200',
          userId: String(300_000_000_000_000_000n + BigInt(i)),
          action: 'imagine',
          prompt: `concurrent insert ${i}`,
          promptUpstream: `concurrent insert ${i}`,
          provider: 'simulator',
          callbackToken: randomUUID(),
        });
        latencies.push(performance.now() - t0);
        await sleep(INSERT_EVERY_MS);
      }
    })();
    await sleep(BASELINE_MS);
    const baseline = latencies.slice();
    phaseStart = latencies.length;
    const purgeStarted = Date.now();
    const report = await purgeTasks(main.db, { olderThanDays: 30 });
    const purgeMs = Date.now() - purgeStarted;
    stopping = true;
    await loop;
    const during = latencies.slice(phaseStart);
    const stalls = during.filter((ms) => ms > STALL_TARGET_MS).length;
    const scenario = '4 purge';
    const rows: Row[] = [
      { scenario, measure: `purge ${opts.rows.toLocaleString('en')} finished tasks`, db: 'postgres', value: `${fmt(purgeMs / 1000, 1)} s (${report.count.toLocaleString('en')} deleted in ${report.batches} batches)` },
      {
        scenario,
        measure: `worst insert meanwhile (${during.length} inserts, one every ~${INSERT_EVERY_MS} ms)`,
        db: 'postgres',
        value: `${fmt(max(during), 0)} ms (p99 ${fmt(percentile(during, 99), 1)} ms)`,
        target: `≤ ${STALL_TARGET_MS} ms`,
        met: stalls === 0 && report.count === opts.rows,
      },
    ];
    const notes = [
      `4 postgres: seeding ${opts.rows.toLocaleString('en')} rows took ${fmt(seedMs / 1000, 0)} s; inserts before the purge: p50 ${fmt(percentile(baseline, 50), 1)} ms, ` +
        `max ${fmt(max(baseline), 1)} ms; during: p50 ${fmt(percentile(during, 50), 1)} ms, p99 ${fmt(percentile(during, 99), 1)} ms, max ${fmt(max(during), 1)} ms, ${stalls} over ${STALL_TARGET_MS} ms; ` +
        `${fmt(report.count / (purgeMs / 1000), 0)} rows/s`,
    ];
    return { rows, notes };
  } finally {
    await inserter.close();
    await main.close();
    await database.destroy();
  }
}
