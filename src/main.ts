// `npm start`: read the configuration, start the bot, stop cleanly on SIGINT/SIGTERM.
import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

const log = createLogger(config.LOG_LEVEL);
const started = performance.now();
// Imported after the configuration is known good, so a bad .env answers instantly and without a stack.
const { openDatabase } = await import('./db/client.ts');

try {
  // The database (the embedded server's start-up, migrations) gets ready while the bot's modules load.
  const [{ startApp }, database] = await Promise.all([import('./app.ts'), openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, log })]);
  let app;
  try {
    app = await startApp(config, log, database);
  } catch (err) {
    await database.close();
    throw err;
  }
  log.info({ startupMs: Math.round(performance.now() - started) }, 'bot ready');
  // Started by the multi-process launcher (src/cluster.ts, READY_MESSAGE): tell it.
  if (cluster.isWorker) process.send?.('mj:ready');
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      app.stop().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ConfigError) console.error(message);
  else if (/token/i.test(message) && /invalid|401/i.test(message)) console.error(`Discord refused the bot token (${message}): check DISCORD_TOKEN in .env.`);
  else log.fatal({ err }, 'start-up failed');
  process.exit(1);
}
