// Composition root: config → db → upstream → discord client → task engine. main.ts runs it as a process.
import { RESTEvents } from '@discordjs/rest';
import { Client, Events, GatewayIntentBits, Status } from 'discord.js';
import { Quotas } from './admin/quotas.ts';
import { AdminRepo } from './admin/repo.ts';
import { ConfigError, type Config } from './config.ts';
import type { AppContext } from './context.ts';
import { openDatabase } from './db/client.ts';
import { Messenger } from './discord/messenger.ts';
import { registerCommands } from './discord/register.ts';
import { routeInteraction } from './discord/router.ts';
import { CALLBACK_PATH, createHttpServer, listen } from './http/server.ts';
import type { Logger } from './log.ts';
import { discordRestErrors, registry, setJobSource } from './metrics.ts';
import { fulfilsWithin } from './timeout.ts';
import { Maintenance } from './maintenance/service.ts';
import { BannedWords } from './prompt/banned.ts';
import { UserSettingsRepo } from './settings/repo.ts';
import { Delivery } from './tasks/delivery.ts';
import { Dispatcher } from './tasks/dispatcher.ts';
import { Cancellation } from './tasks/cancel.ts';
import { Engine } from './tasks/engine.ts';
import { Instance } from './tasks/instance.ts';
import { QueuePositions } from './tasks/positions.ts';
import { TaskRepo } from './tasks/repo.ts';
import { TaskService } from './tasks/service.ts';
import { Tracker } from './tasks/tracker.ts';
import { PromptTranslator } from './translate/translator.ts';
import { createAccounts } from './upstream/index.ts';

/** How long shutdown waits for submissions and deliveries under way (Docker's default stop timeout is 10 s). */
const SHUTDOWN_GRACE_MS = 8_000;

export interface App {
  /** Resolves once the gateway is ready and the commands are registered. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  const { accounts, notices } = createAccounts(config);
  const bannedWords = BannedWords.load(config.BANNED_WORDS_FILE);
  const translator = PromptTranslator.fromConfig(config, log);
  for (const notice of notices) log.warn(notice);

  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  log.info({ database: database.kind }, 'database ready');
  const repo = new TaskRepo(database.db);
  // This process's mark of life; the jobs of instances that died (this one's previous run included) are taken over.
  const instance = new Instance(database, repo, log);
  await instance.check();

  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: config.DISCORD_API_URL },
    // SHARD_IDS of SHARD_COUNT (every shard when only the count is given); unset: one shard, or what a sharding manager says.
    ...(config.SHARD_COUNT && { shardCount: config.SHARD_COUNT, shards: config.SHARD_IDS ?? [...Array(config.SHARD_COUNT).keys()] }),
  });
  const messenger = new Messenger(client.rest, () => client.application!.id);
  const delivery = new Delivery(repo, messenger, accounts, log, config.PROGRESS_EDIT_INTERVAL_MS);
  const tracker = new Tracker(repo, accounts, delivery, log, instance.key);
  const callbackBase = config.PUBLIC_URL ? `${config.PUBLIC_URL.replace(/\/+$/, '')}${CALLBACK_PATH}` : undefined;
  // Jobs answered locally (ImagineAPI's U1–U4) or quickly are picked up at once, not a POLL_INTERVAL_MS later;
  // a job put back in the queue (its account failed) is placed on another account at once.
  const dispatcher = new Dispatcher(repo, accounts, delivery, log, {
    owner: instance.key,
    userMaxConcurrent: config.USER_MAX_CONCURRENT,
    callbackBase,
    onSubmitted: () => engine.kick(),
    onRequeued: () => engine.kick(),
  });
  const engine = new Engine(dispatcher, tracker, log, config.POLL_INTERVAL_MS, new QueuePositions(database.db, delivery, log, config.PROGRESS_EDIT_INTERVAL_MS));
  const maintenance = new Maintenance(database, delivery, log, {
    retentionDays: config.TASK_RETENTION_DAYS,
    cleanupCron: config.CLEANUP_CRON,
    jobTimeoutMinutes: config.JOB_TIMEOUT_MINUTES,
    jobMaxMinutes: config.JOB_MAX_MINUTES,
    queueTimeoutMinutes: config.QUEUE_TIMEOUT_MINUTES,
    instance,
  });
  const admin = new AdminRepo(database.db);
  const quotas = new Quotas(database.db, admin, config);
  const ctx: AppContext = {
    config,
    log,
    repo,
    accounts,
    tasks: new TaskService(quotas, engine, accounts.primary.provider.id),
    admin,
    quotas,
    settings: new UserSettingsRepo(database.db),
    cancellation: new Cancellation(database.db, accounts, delivery, log),
    maintenance,
    translator,
    bannedWords,
  };

  setJobSource(() => repo.countUnfinished());
  client.rest.on(RESTEvents.Response, (_request, response) => {
    if (response.status >= 400) discordRestErrors.inc({ status: String(response.status) });
  });
  const http = createHttpServer({
    repo,
    tracker,
    accounts,
    log,
    accountWebhookSecret: config.UPSTREAM_WEBHOOK_SECRET,
    health: async () => ({ gateway: client.ws.status === Status.Ready, database: await database.ping() }),
    metrics: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  });
  try {
    const port = await listen(http, config.HTTP_PORT);
    log.info({ port, callbacks: callbackBase ?? 'off (PUBLIC_URL unset: polling only)' }, 'http server listening');
  } catch (err) {
    await database.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`Configuration error: HTTP_PORT ${config.HTTP_PORT} is already in use — set HTTP_PORT to a free port.`);
    throw err;
  }

  client.on(Events.InteractionCreate, (interaction) => void routeInteraction(ctx, interaction));
  client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));
  client.on(Events.ShardDisconnect, (_, shard) => log.warn({ shard }, 'gateway disconnected'));

  // Commands registered by an earlier start stay valid, so a failed registration is not fatal: the bot
  // serves at once and retries the registration in the background.
  const register = async (rest: Client['rest'], applicationId: string, attempt = 1): Promise<void> => {
    try {
      const n = await registerCommands(rest, applicationId, config.DISCORD_GUILD_ID);
      log.info({ commands: n, scope: config.DISCORD_GUILD_ID ? 'guild' : 'global' }, 'commands registered');
    } catch (err) {
      const retryInMs = Math.min(300_000, 5_000 * 2 ** (attempt - 1));
      log.error({ err, attempt, retryInMs }, 'command registration failed; retrying');
      setTimeout(() => void register(rest, applicationId, attempt + 1), retryInMs).unref();
    }
  };
  const ready = new Promise<void>((resolve) => {
    client.once(Events.ClientReady, async (c) => {
      log.info({ user: c.user.tag }, 'gateway ready');
      await register(c.rest, c.application.id);
      await maintenance.start();
      engine.start();
      resolve();
    });
  });

  try {
    await client.login(config.DISCORD_TOKEN);
    await ready;
  } catch (err) {
    await client.destroy();
    http.close();
    await database.close();
    throw err;
  }

  return {
    ready,
    // Graceful: no new claims or polls, then the submissions and deliveries under way get a bounded grace.
    // Whatever is cut short stays in the database and is finished by the next start (see Instance).
    async stop() {
      await maintenance.stop();
      await engine.stop();
      http.close();
      // idle() never rejects: only the grace running out makes this false.
      const finished = await fulfilsWithin(Promise.all([dispatcher.idle(), delivery.idle()]), SHUTDOWN_GRACE_MS);
      if (!finished) log.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'shutdown grace ran out; unfinished work resumes at the next start');
      await client.destroy();
      await database.close();
    },
  };
}
