// `npm run bench [-- scenario… --quick --db embedded,postgres --json file]`: runs the benchmarks of issue 10 against
// the real bot (src/main.ts in a child process) and fakes in another process, and prints a Markdown table.
// Scenarios: ack, cost, delivery, purge, translate (all by default). See bench/README.md.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { ackScenario } from './scenarios/ack.ts';
import { costScenario } from './scenarios/cost.ts';
import { deliveryScenario } from './scenarios/delivery.ts';
import { purgeScenario } from './scenarios/purge.ts';
import { translateScenario } from './scenarios/translate.ts';
import { postgresUrl, type DbKind } from './lib/database.ts';
import { loadAverage } from './lib/proc.ts';
import { markdownTable, type Row, type ScenarioResult } from './lib/report.ts';

const SCENARIOS = ['ack', 'cost', 'delivery', 'purge', 'translate'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Args {
  scenarios: Scenario[];
  quick: boolean;
  dbs: DbKind[];
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const scenarios: Scenario[] = [];
  let quick = false;
  let dbs: DbKind[] | undefined;
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--db') dbs = argv[++i]!.split(',') as DbKind[];
    else if (a === '--json') json = argv[++i];
    else if ((SCENARIOS as readonly string[]).includes(a)) scenarios.push(a as Scenario);
    else throw new Error(`unknown argument ${a}; scenarios: ${SCENARIOS.join(', ')}; options: --quick, --db embedded,postgres, --json <file>`);
  }
  return { scenarios: scenarios.length ? scenarios : [...SCENARIOS], quick, dbs: dbs ?? (postgresUrl() ? ['embedded', 'postgres'] : ['embedded']), json };
}

function machine(): string {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  return `${os.cpus().length} CPUs (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date();
  console.log(`# mj-discord-bot benchmarks — ${started.toISOString()}`);
  console.log(`machine: ${machine()}; load average at start ${loadAverage().toFixed(2)}`);
  if (!postgresUrl()) console.log('PostgreSQL: TEST_DATABASE_URL unset — PostgreSQL runs (and the purge) are skipped.');
  const rows: Row[] = [];
  const notes: string[] = [];
  const loads: string[] = [];
  const run = async (name: string, fn: () => Promise<ScenarioResult>) => {
    const t = Date.now();
    process.stdout.write(`… ${name} (load ${loadAverage().toFixed(2)})\n`);
    try {
      const result = await fn();
      rows.push(...result.rows);
      notes.push(...result.notes);
    } catch (err) {
      rows.push({ scenario: name, measure: 'run failed', db: '—', value: String(err instanceof Error ? err.message : err).split('\n')[0]!.slice(0, 200), met: false });
      console.error(err);
    }
    loads.push(`${name}: ${((Date.now() - t) / 1000).toFixed(0)} s, load ${loadAverage().toFixed(2)} after`);
  };

  for (const scenario of args.scenarios) {
    if (scenario === 'ack') {
      for (const db of args.dbs) {
        await run(`ack ${db}`, () => ackScenario({ db, count: args.quick ? 200 : 2000, perSecond: 200 }));
        // The same at a quarter of the rate, where the bot is not saturated.
        if (!args.quick) await run(`ack ${db} at 50/s`, () => ackScenario({ db, count: 500, perSecond: 50 }));
        // Every core: the bot as several processes sharing the shards (`npm run start:cluster`; PostgreSQL only).
        const cores = Math.min(os.availableParallelism(), 4);
        if (db === 'postgres' && cores > 1) {
          await run(`ack ${db}, ${cores} processes`, () => ackScenario({ db, count: args.quick ? 200 : 2000, perSecond: 200, processes: cores }));
          if (!args.quick) await run(`ack ${db} at 50/s, ${cores} processes`, () => ackScenario({ db, count: 500, perSecond: 50, processes: cores }));
        }
      }
    }
    if (scenario === 'cost') {
      for (const db of args.dbs) await run(`cost ${db}`, () => costScenario({ db, jobs: args.quick ? 200 : 2000, perSecond: args.quick ? 50 : 25, steps: args.quick ? 9 : 45 }));
    }
    if (scenario === 'delivery') {
      for (const db of args.dbs) await run(`delivery ${db}`, () => deliveryScenario({ db, rounds: args.quick ? 3 : 10, imageSide: 1400 }));
    }
    if (scenario === 'purge') {
      if (postgresUrl()) await run('purge postgres', () => purgeScenario({ rows: args.quick ? 100_000 : 1_000_000 }));
      else rows.push({ scenario: '4 purge', measure: 'skipped: needs PostgreSQL (set TEST_DATABASE_URL)', db: 'postgres', value: '—' });
    }
    if (scenario === 'translate') await run('translate', () => translateScenario({ db: args.dbs[0]!, prompts: args.quick ? 10 : 50 }));
  }

  console.log('\n' + markdownTable(rows) + '\n');
  for (const n of notes) console.log(`- ${n}`);
  console.log(`\nruns: ${loads.join('; ')}; total ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ started, machine: machine(), rows, notes, loads }, null, 2));
  const failed = rows.some((r) => r.met === false);
  process.exitCode = failed ? 1 : 0;
}

await main();
