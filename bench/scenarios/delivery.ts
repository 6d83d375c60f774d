// 3. Delivery overhead: one job at a time on a relay that pushes its completion (PUBLIC_URL set), with a result
// the size of a Midjourney grid. Measured from the moment the relay starts its completion callback to the moment
// the upload has fully arrived at the fake Discord, against the floor (bench/floor.ts) measured in the same run,
// round by round, on the same image.
import { freePort } from '../../test/support/bot.ts';
import { downloadAndUpload } from '../floor.ts';
import { startBenchBot } from '../lib/bot.ts';
import { createBenchDatabase, type DbKind } from '../lib/database.ts';
import { FakesHost } from '../lib/host.ts';
import type { Row, ScenarioResult } from '../lib/report.ts';
import { fmt, median, percentile, until } from '../lib/stats.ts';

export interface DeliveryOptions {
  db: DbKind;
  rounds: number;
  /** Side of the result image: 1400 px of noise is a 5.9 MB PNG, about a Midjourney grid. */
  imageSide: number;
}

const TARGET_RATIO = 1.5;

export async function deliveryScenario(opts: DeliveryOptions): Promise<ScenarioResult> {
  const database = await createBenchDatabase(opts.db);
  const { host, fakes } = await FakesHost.start({ relay: { stepMs: 300, progress: [50], imageSide: opts.imageSide } });
  const relay = fakes.relay!;
  const port = await freePort();
  try {
    const bot = await startBenchBot({
      ...fakes.discordEnv,
      ...database.env,
      UPSTREAM_PROVIDER: 'ttapi',
      UPSTREAM_BASE_URL: relay.url,
      UPSTREAM_API_KEY: relay.apiKey,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      HTTP_PORT: String(port),
    });
    try {
      const target = { imageUrl: relay.imageUrl, apiUrl: fakes.discordEnv.DISCORD_API_URL!, token: fakes.discordEnv.DISCORD_TOKEN!, channelId: fakes.channelId };
      await host.mark();
      const botMs: number[] = [];
      const hooks: string[] = [];
      const floorMs: number[] = [];
      // Round 0 warms both paths up (connections, JIT) and is not counted.
      for (let round = 0; round <= opts.rounds; round++) {
        const prompt = `bench delivery ${round}`;
        await host.burst({ count: 1, perSecond: 1, prompt });
        const trace = await until(async () => (await host.traces()).find((t) => t.prompt === prompt && t.uploadAt !== undefined), 30_000, `the result of "${prompt}"`);
        const uploadsBefore = (await host.channelUploads()).length;
        const floorStart = await downloadAndUpload(target, `floor ${round}`);
        const arrived = await until(async () => (await host.channelUploads())[uploadsBefore], 10_000, 'the floor upload');
        if (round === 0) continue;
        botMs.push(trace.uploadAt! - (trace.hookSentAt ?? trace.relayCompletesAt!));
        // The bot answers the callback once it has delivered: read the relay's view again now.
        const settled = (await host.traces()).find((t) => t.prompt === prompt)!;
        hooks.push(`${settled.hookStatus ?? '-'} after ${settled.hookAnsweredAt && settled.hookSentAt ? settled.hookAnsweredAt - settled.hookSentAt : '-'} ms`);
        floorMs.push(arrived - floorStart);
      }
      const rest = await host.rest();
      const ratio = median(botMs) / median(floorMs);
      const scenario = '3 delivery overhead';
      const mb = fmt(relay.imageBytes / 2 ** 20, 1);
      const rows: Row[] = [
        { scenario, measure: `relay callback → upload arrived, ${mb} MB PNG (median of ${opts.rounds})`, db: opts.db, value: `${fmt(median(botMs), 0)} ms (max ${fmt(percentile(botMs, 100), 0)})` },
        { scenario, measure: 'floor: plain download + upload of the same bytes (median)', db: opts.db, value: `${fmt(median(floorMs), 0)} ms (max ${fmt(percentile(floorMs, 100), 0)})` },
        { scenario, measure: 'ratio bot / floor', db: opts.db, value: fmt(ratio, 2), target: `≤ ${TARGET_RATIO}`, met: ratio <= TARGET_RATIO },
      ];
      const notes = [
        `3 ${opts.db}: bot ${botMs.join(', ')} ms; floor ${floorMs.join(', ')} ms; relay callbacks: ${hooks.join(', ')}; REST calls: ${JSON.stringify(rest.byKind)}; bot warnings: ${JSON.stringify(bot.problems())}` +
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
