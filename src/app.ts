// Composition root: config → db → upstream → discord client → task engine. main.ts runs it as a process.
import { REST, RESTEvents } from '@discordjs/rest';
import { Client, Events, GatewayIntentBits, Options, Status } from 'discord.js';
import { commands } from '../commands/index.ts';
import { Quotas } from './admin/quotas.ts';
import { AdminRepo } from './admin/repo.ts';
import { ConfigError, type Config } from './config.ts';
import type { AppContext } from './context.ts';
import type { Database } from './db/client.ts';
import { postgresNotifications } from './db/notify.ts';
import { attachmentLinkRefresher } from './discord/attachment-links.ts';
import { Messenger } from './messages/messenger.ts';
import { InteractionCallbacks } from './messages/callbacks.ts';
import { registerCommands } from './discord/register.ts';
import { routeInteraction } from './discord/router.ts';
import { RegionEditor, offersRegionEditor } from './editor/service.ts';
import { EditorSessions } from './editor/sessions.ts';
import { CALLBACK_PATH, createHttpServer, listen } from './http/server.ts';
import type { Logger } from './log.ts';
import { discordRestErrors, registry, setJobSource } from './metrics.ts';
import { fulfilsWithin } from './timeout.ts';
import { Maintenance } from './maintenance/service.ts';
import { BannedWords } from './prompt/banned.ts';
import { UserSettingsRepo } from './settings/repo.ts';
import { Acceptor, UsageMemory } from './tasks/accept.ts';
import { Delivery } from './tasks/delivery.ts';
import { Dispatcher } from './tasks/dispatcher.ts';
import { Cancellation } from './tasks/cancel.ts';
import { Instance } from './tasks/instance.ts';
import { Lifecycle } from './tasks/lifecycle.ts';
import { Loop } from './tasks/loop.ts';
import { QueuePositions } from './tasks/positions.ts';
import { TaskRepo } from './tasks/repo.ts';
import { TaskService } from './tasks/service.ts';
import { Tracker } from './tasks/tracker.ts';
import { PromptTranslator } from './translate/translator.ts';
import { createAccounts } from './upstream/index.ts';

/** How long shutdown waits for submissions and deliveries under way (Docker's default stop timeout is 10 s). */
const SHUTDOWN_GRACE_MS = 8_000;
/** The most any other shutdown step may take (stopping the loops, the gateway, the database pool). */
const SHUTDOWN_STEP_MS = 3_000;

export interface App {
  /** Resolves once the gateway is ready and the commands are registered. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** `database`: opened by the caller (main.ts opens it while these modules load); closed by `stop()`. */
export async function startApp(config: Config, log: Logger, database: Database): Promise<App> {
  const { accounts, notices } = createAccounts(config);
  const bannedWords = BannedWords.load(config.BANNED_WORDS_FILE);
  const translator = PromptTranslator.fromConfig(config, log);
  for (const notice of notices) log.warn(notice);

  log.info({ database: database.kind }, 'database ready');
  const repo = new TaskRepo(database.db);
  const lifecycle = new Lifecycle(database.db);

  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    // Every interaction would otherwise leave its user, member and message in discord.js's caches for the
    // life of the process (a user who ever clicked stays in memory); the bot reads them from the interaction.
    makeCache: Options.cacheWithLimits({
      ...Options.DefaultMakeCacheSettings,
      MessageManager: 0,
      UserManager: { maxSize: 0, keepOverLimit: (user) => user.id === user.client.user.id },
      GuildMemberManager: { maxSize: 0, keepOverLimit: (member) => member.id === member.client.user.id },
    }),
    rest: { api: config.DISCORD_API_URL },
    // SHARD_IDS of SHARD_COUNT (every shard when only the count is given); unset: one shard, or what a sharding manager says.
    ...(config.SHARD_COUNT && { shardCount: config.SHARD_COUNT, shards: config.SHARD_IDS ?? [...Array(config.SHARD_COUNT).keys()] }),
  });
  // Interaction-token webhooks do not count against Discord's global rate limit: their own client, uncapped, so
  // final messages never wait behind the bot token's queue (progress edits have a budget of their own).
  const webhookRest = new REST({ api: config.DISCORD_API_URL, globalRequestsPerSecond: Number.MAX_SAFE_INTEGER });
  const messenger = new Messenger(client.rest, webhookRest, () => client.application!.id);
  const callbacks = new InteractionCallbacks(config.DISCORD_API_URL);
  // This process's key: its mark of life (see Instance) and the owner stamped on the work it takes.
  const owner = Instance.newKey();
  const delivery = new Delivery(lifecycle, repo, messenger, accounts, log, {
    owner,
    progressIntervalMs: config.PROGRESS_EDIT_INTERVAL_MS,
    giveUpMinutes: config.DELIVERY_GIVE_UP_MINUTES,
    regionEditor: (task) => offersRegionEditor({ config, accounts }, task),
  });
  const onFinal = () => delivery.kick();
  const tracker = new Tracker(lifecycle, repo, accounts, delivery, log, {
    owner,
    pollIntervalMs: config.POLL_INTERVAL_MS,
    // Written often enough for the stall timeout to see it, rarely enough to cost little with thousands of jobs.
    seenRefreshMs: Math.min(30_000, (config.JOB_TIMEOUT_MINUTES * 60_000) / 10),
    onFinal,
  });
  const callbackBase = config.PUBLIC_URL ? `${config.PUBLIC_URL.replace(/\/+$/, '')}${CALLBACK_PATH}` : undefined;
  const dispatcher = new Dispatcher(lifecycle, repo, accounts, log, {
    owner,
    userMaxConcurrent: config.USER_MAX_CONCURRENT,
    callbackBase,
    // Jobs answered locally (ImagineAPI's U1–U4) or quickly are picked up at once, not a POLL_INTERVAL_MS later.
    onSubmitted: (account) => tracker.kick(account),
    // A job put back in the queue (its account failed) is placed on another account at once.
    onRequeued: () => dispatch.kick(),
    onFinal,
    // Stored Discord attachment links expire after about a day: renewed with the bot token before each submission.
    refreshLinks: attachmentLinkRefresher(client.rest, log),
  });
  const positions = new QueuePositions(lifecycle, delivery, log, config.PROGRESS_EDIT_INTERVAL_MS);
  const dispatch = new Loop(
    'dispatch',
    async () => {
      await dispatcher.run();
      // After the claims: the jobs just started left the queue, and everyone behind them moved up.
      await positions.run();
    },
    log,
    config.POLL_INTERVAL_MS,
  );
  // The jobs of instances that died (this one's previous run included) are taken over.
  const instance = new Instance(database, lifecycle, repo, log, owner, () => dispatcher.submitting, () => {
    dispatch.kick();
    tracker.kick();
    delivery.kick();
  });
  await instance.check();
  const maintenance = new Maintenance(database, lifecycle, onFinal, log, {
    retentionDays: config.TASK_RETENTION_DAYS,
    cleanupCron: config.CLEANUP_CRON,
    jobTimeoutMinutes: config.JOB_TIMEOUT_MINUTES,
    jobMaxMinutes: config.JOB_MAX_MINUTES,
    queueTimeoutMinutes: config.QUEUE_TIMEOUT_MINUTES,
  });
  // Bans, servers' quotas, users' defaults and the use of the limits are answered from memory (see
  // src/discord/preconditions.ts); other instances' changes arrive by PostgreSQL notification.
  const notifications = postgresNotifications(database.url, log);
  const admin = new AdminRepo(database.db);
  const settings = new UserSettingsRepo(database.db);
  const usage = new UsageMemory();
  admin.onGuildChange((guildId) => usage.forgetGuild(guildId));
  await Promise.all([admin.start(notifications, log), settings.start(notifications, log), usage.preload(database.db, config.VIDEO_QUOTA_WEIGHT)]);
  const quotas = new Quotas(database.db, admin, config);
  const acceptor = new Acceptor(database.db, usage, { limits: (guildId, applied) => quotas.jobLimits(guildId, applied), videoWeight: config.VIDEO_QUOTA_WEIGHT, onStored: () => dispatch.kick(), log });
  const ctx: AppContext = {
    config,
    log,
    callbacks,
    repo,
    accounts,
    tasks: new TaskService(acceptor, accounts.primary.provider.id),
    admin,
    quotas,
    usage,
    settings,
    cancellation: new Cancellation(lifecycle, repo, accounts, delivery, log),
    maintenance,
    translator,
    bannedWords,
    editorSessions: new EditorSessions(database.db),
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
    editor: new RegionEditor(ctx, ctx.editorSessions!),
  });
  try {
    const port = await listen(http, config.HTTP_PORT);
    log.info({ port, callbacks: callbackBase ?? 'off (PUBLIC_URL unset: polling only)' }, 'http server listening');
  } catch (err) {
    await notifications.close();
    await database.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`Configuration error: HTTP_PORT ${config.HTTP_PORT} is already in use — set HTTP_PORT to a free port.`);
    throw err;
  }

  client.on(Events.InteractionCreate, (interaction) => void routeInteraction(ctx, commands, interaction));
  client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));
  client.on(Events.ShardDisconnect, (_, shard) => log.warn({ shard }, 'gateway disconnected'));

  // Commands registered by an earlier start stay valid, so a failed registration is not fatal: the bot
  // serves at once and retries the registration in the background.
  const register = async (rest: Client['rest'], applicationId: string, attempt = 1): Promise<void> => {
    try {
      const n = await registerCommands(rest, commands, applicationId, config.DISCORD_GUILD_ID);
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
      instance.start();
      dispatch.start();
      tracker.start();
      delivery.start();
      resolve();
    });
  });

  try {
    await client.login(config.DISCORD_TOKEN);
    await ready;
  } catch (err) {
    await client.destroy();
    http.close();
    await notifications.close();
    await database.close();
    throw err;
  }

  return {
    ready,
    // Graceful: no new claims, polls or deliveries, then the submissions and sends under way get a bounded grace.
    // Whatever is cut short stays in the database and is finished by the next start (see Instance).
    async stop() {
      // Each step is bounded: a pass stuck on a hung peer must not keep the process from exiting (the work it
      // holds is in the database either way).
      const step = async (name: string, work: Promise<unknown>, ms: number) => {
        if (!(await fulfilsWithin(work, ms))) log.warn({ step: name, ms }, 'shutdown step did not finish in time; going on');
      };
      await step('loops', Promise.all([maintenance.stop(), instance.stop(), dispatch.stop(), tracker.stop(), delivery.stop()]), SHUTDOWN_STEP_MS);
      http.close();
      // idle() never rejects: only the grace running out makes this false.
      const finished = await fulfilsWithin(Promise.all([acceptor.idle(), dispatcher.idle(), delivery.idle()]), SHUTDOWN_GRACE_MS);
      if (!finished) log.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'shutdown grace ran out; unfinished work resumes at the next start');
      await step('discord', Promise.all([client.destroy(), callbacks.close()]), SHUTDOWN_STEP_MS);
      await step('notifications', notifications.close(), SHUTDOWN_STEP_MS);
      // The pool waits up to 5 s for queries under way, then the embedded server (if ours) stops cleanly.
      await step('database', database.close(), 10_000);
    },
  };
}
