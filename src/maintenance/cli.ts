// `npm run purge -- --days N [--dry-run] [--guild <server id>]`: the cleanup's purge from the shell, for
// deployments that schedule it themselves (CLEANUP_CRON=off). Needs only the database settings, not the bot
// token. Without DATABASE_URL it uses the bot's embedded server: the running one, or one it starts (and stops
// again) itself.
import { parseArgs } from 'node:util';
import { ConfigError, loadMaintenanceConfig } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import { createLogger } from '../log.ts';
import { purgeTasks } from './purge.ts';

const USAGE = 'Usage: npm run purge -- [--days N] [--dry-run] [--guild <server id>]  (--days defaults to TASK_RETENTION_DAYS)';

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    options: { days: { type: 'string' }, 'dry-run': { type: 'boolean', default: false }, guild: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

let config;
try {
  config = loadMaintenanceConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  fail(err.message);
}

const days = args.days === undefined ? config.TASK_RETENTION_DAYS : Number(args.days);
if (!Number.isInteger(days) || days < 0) fail(`--days must be a whole number of days (0 or more), not "${args.days}".\n${USAGE}`);
if (args.guild !== undefined && !/^\d{17,20}$/.test(args.guild)) fail(`--guild must be a server (guild) id: 17-20 digits.\n${USAGE}`);

const log = createLogger(config.LOG_LEVEL);
let database;
try {
  database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, log });
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
try {
  const report = await purgeTasks(database.db, {
    olderThanDays: days,
    dryRun: args['dry-run'],
    guildId: args.guild,
    onBatch: ({ batches, deleted }) => {
      if (batches % 100 === 0) log.info({ batches, deleted }, 'purge in progress');
    },
  });
  log.info(
    { database: database.kind, guildId: report.guildId ?? 'all', days, dryRun: report.dryRun, count: report.count, batches: report.batches, cutoff: report.cutoff.toISOString() },
    'purge finished',
  );
} catch (err) {
  log.fatal({ err }, 'purge failed');
  process.exitCode = 1;
} finally {
  await database.close();
}
