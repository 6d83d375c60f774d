// 5. Translation: a burst of distinct Chinese prompts (zh-CN users, at 200 per second) on a Baidu plan of one
// request per second (BAIDU_QPS=1, the fake Baidu enforces it). How many Baidu requests they cost, whether the
// plan's rate was ever broken, and how long the last prompt waited for its translation; then the same prompts
// again, which the cache should answer without Baidu.
import { startBenchBot } from '../lib/bot.ts';
import { createBenchDatabase, type DbKind } from '../lib/database.ts';
import { FakesHost } from '../lib/host.ts';
import type { Row, ScenarioResult } from '../lib/report.ts';
import { fmt, max, percentile, until } from '../lib/stats.ts';

export interface TranslateOptions {
  db: DbKind;
  prompts: number;
}

export async function translateScenario(opts: TranslateOptions): Promise<ScenarioResult> {
  const database = await createBenchDatabase(opts.db);
  const { host, fakes } = await FakesHost.start({ baidu: { qps: 1 } });
  try {
    const bot = await startBenchBot({ ...fakes.discordEnv, ...database.env, ...fakes.baiduEnv, BAIDU_QPS: '1' });
    try {
      await host.mark();
      const accepted = () => bot.process.logs.filter((l) => l.msg === 'task accepted');
      const burst = async (round: string) => {
        const before = accepted().length;
        await host.burst({ count: opts.prompts, perSecond: 200, prompt: `第{i}只可爱的小猫在花园里${round}`, locale: 'zh-CN' });
        await until(() => (accepted().length >= before + opts.prompts ? true : undefined), 120_000, `${opts.prompts} accepted jobs`);
      };
      await burst('');
      const first = (await host.baidu())!;
      const traces = await host.traces();
      const sent = new Map(traces.map((t) => [t.prompt, t.sentAt]));
      // From the /draw to the stored job, which waits for its translation.
      const waits = accepted()
        .map((l) => (sent.has(String(l.prompt)) ? Number(l.time) - sent.get(String(l.prompt))! : Number.NaN))
        .filter(Number.isFinite);
      const firstRequests = first.requests.length;
      await burst('');
      const second = (await host.baidu())!;
      const lines = first.requests.map((r) => r.lines);
      const errors = second.requests.filter((r) => r.answer !== 'ok').length;
      const scenario = '5 translation';
      const rows: Row[] = [
        {
          scenario,
          measure: `Baidu requests for ${opts.prompts} distinct Chinese prompts in a burst (BAIDU_QPS=1)`,
          db: opts.db,
          value: `${firstRequests} (lines per request: ${lines.join(', ')})`,
        },
        { scenario, measure: 'the same prompts again (cache)', db: opts.db, value: `${second.requests.length - firstRequests} requests` },
        {
          scenario,
          measure: 'rate of 1 request/s kept (requests refused 54003)',
          db: opts.db,
          value: `${second.violations.length} violations, ${errors} errors`,
          target: 'none',
          met: second.violations.length === 0 && errors === 0,
        },
        { scenario, measure: 'wait for the translation: /draw → job stored (p50 / max)', db: opts.db, value: `${fmt(percentile(waits, 50), 0)} / ${fmt(max(waits), 0)} ms` },
      ];
      const notes = [
        `5 ${opts.db}: request times (ms after the first): ${first.requests.map((r) => r.at - first.requests[0]!.at).join(', ')}; bot warnings: ${JSON.stringify(bot.problems())}`,
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
