// Composition root: config → db → upstream → discord client → task engine. main.ts runs it as a process.
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { AdminRepo } from './admin/repo.ts';
import { ConfigError, type Config } from './config.ts';
import type { AppContext } from './context.ts';
import { openDatabase } from './db/client.ts';
import { Messenger } from './discord/messenger.ts';
import { registerCommands } from './discord/register.ts';
import { routeInteraction } from './discord/router.ts';
import { CALLBACK_PATH, createHttpServer, listen } from './http/server.ts';
import type { Logger } from './log.ts';
import { Maintenance } from './maintenance/service.ts';
import { BannedWords } from './prompt/banned.ts';
import { Delivery } from './tasks/delivery.ts';
import { Dispatcher } from './tasks/dispatcher.ts';
import { Engine } from './tasks/engine.ts';
import { TaskRepo } from './tasks/repo.ts';
import { TaskService } from './tasks/service.ts';
import { Tracker } from './tasks/tracker.ts';
import { PromptTranslator } from './translate/translator.ts';
import { createUpstream } from './upstream/index.ts';

export interface App {
  /** Resolves once the gateway is ready and the commands are registered. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  const { provider, account } = createUpstream(config);
  const bannedWords = BannedWords.load(config.BANNED_WORDS_FILE);
  const translator = PromptTranslator.fromConfig(config, log);
  if (provider.notice) log.warn(provider.notice);

  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  log.info({ database: database.kind }, 'database ready');
  const repo = new TaskRepo(database.db);

  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: config.DISCORD_API_URL } });
  const messenger = new Messenger(client.rest, () => client.application!.id);
  const delivery = new Delivery(repo, messenger, provider, log, config.PROGRESS_EDIT_INTERVAL_MS);
  const tracker = new Tracker(repo, provider, delivery, log);
  const callbackBase = config.PUBLIC_URL ? `${config.PUBLIC_URL.replace(/\/+$/, '')}${CALLBACK_PATH}` : undefined;
  // Jobs answered locally (ImagineAPI's U1–U4) or quickly are picked up at once, not a POLL_INTERVAL_MS later.
  const dispatcher = new Dispatcher(repo, provider, delivery, log, { account, callbackBase, onSubmitted: () => engine.kick() });
  const engine = new Engine(dispatcher, tracker, log, config.POLL_INTERVAL_MS);
  const maintenance = new Maintenance(database, delivery, log, {
    retentionDays: config.TASK_RETENTION_DAYS,
    cleanupCron: config.CLEANUP_CRON,
    jobTimeoutMinutes: config.JOB_TIMEOUT_MINUTES,
    queueTimeoutMinutes: config.QUEUE_TIMEOUT_MINUTES,
  });
  const ctx: AppContext = { config, log, repo, provider, tasks: new TaskService(repo, engine, provider.id), admin: new AdminRepo(database.db), maintenance, translator, bannedWords };

  const http = createHttpServer({ repo, tracker, provider, log, accountWebhookSecret: config.UPSTREAM_WEBHOOK_SECRET });
  try {
    const port = await listen(http, config.HTTP_PORT);
    log.info({ port, callbacks: callbackBase ?? 'off (PUBLIC_URL unset: polling only)' }, 'http server listening');
  } catch (err) {
    await database.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`Configuration error: HTTP_PORT ${config.HTTP_PORT} is already in use — set HTTP_PORT to a free port.`);
    throw err;
  }

  const requeued = await repo.requeueUnsubmitted();
  if (requeued > 0) log.warn({ requeued }, 'requeued tasks interrupted before submission');

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
    async stop() {
      await maintenance.stop();
      await engine.stop();
      http.close();
      await delivery.idle();
      await client.destroy();
      await database.close();
    },
  };
}
