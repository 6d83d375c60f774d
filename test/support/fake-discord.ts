// A fake Discord at the protocol level: a real HTTP server for REST (`/api/v10/...`) and a real
// WebSocket gateway on 127.0.0.1, so the real bot (discord.js, in its own process) talks to it
// exactly as it talks to Discord. Every request body is checked against the official schemas
// (`discord-api-spec/zod`) and Discord's unpublished-in-schema limits; tests drive users'
// actions (slash commands, button clicks, modal submits) and read back what users would see.
//
//   const fake = await FakeDiscord.start();
//   // bot env: DISCORD_TOKEN=fake.token DISCORD_API_URL=fake.apiUrl DISCORD_GUILD_ID=fake.guildId
//   const draw = await fake.slashCommand({ name: 'draw', options: { prompt: 'a cat' }, locale: 'zh-CN' });
//   const done = await draw.waitForMessage((m) => m.attachments.length > 0, 20_000);
//   const upscale = await fake.clickButton({ message: done, customId: 'upscale:1' });
//   fake.assertNoViolations();
//
// Helpers live beside it: discord-validation (schemas + limits), discord-gateway, discord-http,
// discord-commands, discord-interaction, discord-objects.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  buildCommandOptions,
  findChatInputCommand,
  toRegisteredCommand,
  type CommandOptionsInput,
  type FakeUpload,
  type OptionValue,
  type RawCommandOption,
  type RegisteredCommand,
} from './discord-commands.ts';
import { seededRandom } from './seeded-random.ts';
import { FakeGateway, shardOf, type GatewayEvent, type SessionRef } from './discord-gateway.ts';
import { parseBody, readBody, safeDecode, writeJson, type ParsedBody, type RecordedFile } from './discord-http.ts';
import {
  FakeInteraction,
  type CallbackRecord,
  type EditRecord,
  type InteractionHost,
  type InteractionState,
  type MessageEvent,
  type SeenAttachment,
  type SeenMessage,
} from './discord-interaction.ts';
import {
  commandIssues,
  commandListIssues,
  dedupeIssues,
  discordErrorTree,
  fileIndexOf,
  formatIssue,
  isEmptyMessage,
  isRecord,
  messageIssues,
  modalIssues,
  normalizeCommandForSchema,
  schemaIssues,
  schemas,
  walkComponents,
  type Issue,
} from './discord-validation.ts';
import {
  BOT_PERMISSIONS,
  EVERYONE_PERMISSIONS,
  Permission,
  botUserObject,
  channelObject,
  dmChannelObject,
  guessContentType,
  guildIdOnShard,
  guildCreatePayload,
  guildObject,
  imageSize,
  interactionToken,
  memberObject,
  snowflake,
  userObject,
  type FakeAttachment,
  type FakeChannel,
  type FakeGuild,
  type FakeMessage,
  type FakeUser,
} from './discord-objects.ts';

export { snowflake, guildIdOnShard, shardOf, EVERYONE_PERMISSIONS, BOT_PERMISSIONS, FakeInteraction, Permission };
export type {
  CallbackRecord,
  EditRecord,
  FakeAttachment,
  FakeMessage,
  FakeUpload,
  FakeUser,
  GatewayEvent,
  MessageEvent,
  OptionValue,
  RawCommandOption,
  RecordedFile,
  RegisteredCommand,
  SeenAttachment,
  SeenMessage,
  SessionRef,
};

// ---------------------------------------------------------------------------------------------
// Public types

export interface FakeDiscordOptions {
  /** The bot token the bot must present (REST `Authorization: Bot <token>`, gateway IDENTIFY). */
  token?: string;
  applicationId?: string;
  botUserId?: string;
  botUsername?: string;
  guildId?: string;
  guildName?: string;
  guildLocale?: string;
  channelId?: string;
  /** Per-file upload limit; Discord's default is 10 MiB. */
  uploadLimitBytes?: number;
  /**
   * What interactions tell as `attachment_size_limit`; unset, the enforced limit. Set it higher to model a
   * limit that dropped after the interaction (a server that lost its boost): only a 413 then tells the bot.
   */
  advertisedUploadLimitBytes?: number;
  /** HELLO heartbeat_interval. Discord uses 41250 ms; anything long is fine for tests. */
  heartbeatIntervalMs?: number;
  /** Discord drops interactions not answered within 3 s (10062). `Infinity` disables the check. */
  callbackDeadlineMs?: number;
  /** Interaction tokens (edits, follow-ups) live 15 minutes. */
  tokenLifetimeMs?: number;
  /** Default timeout of the wait helpers. */
  defaultTimeoutMs?: number;
  /** Shard count GET /gateway/bot recommends (Discord's `shards`); 1 unless set. */
  shards?: number;
  /** How long an attachment link (`?ex=…&is=…&hm=…`) works after it is issued or refreshed; Discord: about a day. */
  attachmentLinkLifetimeMs?: number;
  /** Debug log sink (requests, gateway traffic). */
  log?: (line: string) => void;
}

export interface RecordedCall {
  id: number;
  at: number;
  method: string;
  /** Decoded path below `/api/v10`, e.g. `/webhooks/1/tok/messages/@original`. */
  path: string;
  /** Route template, e.g. `/webhooks/:applicationId/:token/messages/@original`; null when unknown. */
  route: string | null;
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** JSON body, or the parsed `payload_json` of a multipart body. */
  body: unknown;
  files: RecordedFile[];
  status: number;
  response: unknown;
  /** True when the answer came from `inject()` or a fault (`startOutage`, `setRateLimit`). */
  injected: boolean;
  /** Which standing fault answered it, if one did. */
  fault?: 'outage' | 'rateLimit';
}

export interface Violation {
  at: number;
  method: string;
  path: string;
  route: string | null;
  status: number;
  issues: string[];
}

export interface InjectRule {
  method?: string;
  /** Exact decoded path (below /api/v10), route template, or a RegExp tested against the path. */
  path: string | RegExp;
  status: number;
  code?: number;
  message?: string;
  /** Seconds, for 429 (default 1). */
  retryAfter?: number;
  /** For 429: a global rate limit. */
  global?: boolean;
  /** How many matching requests get this answer (default 1). */
  times?: number;
}

/**
 * Which requests a standing fault hits. `messages`: writes of message content (POST/PATCH of interaction
 * webhooks and of channel messages), i.e. what a result, a failure or a progress edit costs; interaction
 * callbacks are left alone, so users' commands are still acknowledged. `all`: every REST request.
 */
export type FaultScope = 'messages' | 'all';

export interface OutageOptions {
  /** Default 503. */
  status?: number;
  /** Default `all`. */
  scope?: FaultScope;
}

export interface RateLimitOptions {
  /** Fraction (0..1) of matching requests answered 429. */
  rate: number;
  /** Seed of the draw (default 1): the same seed hits the same requests in the same order. */
  seed?: number;
  /** Seconds, sent as Retry-After and retry_after (default 1). */
  retryAfter?: number;
  /** Default `messages`. */
  scope?: FaultScope;
}

export interface UserContext {
  userId?: string;
  username?: string;
  locale?: string;
  /** Member permissions in the channel (bitfield string or bigint). */
  memberPermissions?: string | bigint;
  appPermissions?: string | bigint;
  /**
   * Dispatch what the Discord client would refuse (a custom_id that is not on the message, option
   * values outside the command's limits, a command hidden by default_member_permissions), to test
   * the bot's own defences against stale or forged payloads.
   */
  unchecked?: boolean;
}

export interface SlashCommandInput extends UserContext, CommandOptionsInput {
  /** The command's name (or its localized name in `locale`). */
  name: string;
  guildId?: string;
  channelId?: string;
}

export interface ClickButtonInput extends UserContext {
  message: string | { id: string };
  customId: string;
}

export interface SelectMenuInput extends UserContext {
  message: string | { id: string };
  customId: string;
  values: string[];
}

export interface SubmitModalInput extends UserContext {
  /** The interaction that answered with the modal (type 9); its modal defines the fields. */
  from?: FakeInteraction;
  customId?: string;
  /** Text input values by custom_id. */
  values: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Internals

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface StoredFile {
  bytes: Buffer;
  contentType: string;
  filename: string;
}

interface RequestContext {
  call: RecordedCall;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  files: RecordedFile[];
}

interface HandlerResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Route {
  method: string;
  template: string;
  auth: boolean;
  handler: (ctx: RequestContext) => HandlerResult | Promise<HandlerResult>;
}

interface Waiter {
  check: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const API_PREFIX = '/api/v10';
const FLAG_EPHEMERAL = 64;
const FLAG_LOADING = 128;
const EDITABLE_FLAGS = 4 /* SUPPRESS_EMBEDS */ | 4096 /* SUPPRESS_NOTIFICATIONS */ | 32768; /* IS_COMPONENTS_V2 */
const INTERACTION_COMMAND = 2;
const INTERACTION_COMPONENT = 3;
const INTERACTION_AUTOCOMPLETE = 4;
const INTERACTION_MODAL_SUBMIT = 5;
const DEFAULT_USER_ID = '1300000000000000300';

const ERROR_MESSAGES: Record<number, string> = {
  0: 'General error',
  10003: 'Unknown Channel',
  10004: 'Unknown Guild',
  10008: 'Unknown Message',
  10015: 'Unknown Webhook',
  10062: 'Unknown interaction',
  10063: 'Unknown application command',
  40005: 'Request entity too large',
  40060: 'Interaction has already been acknowledged.',
  50001: 'Missing Access',
  50005: 'Cannot edit a message authored by another user',
  50006: 'Cannot send an empty message',
  50013: 'Missing Permissions',
  50027: 'Invalid Webhook Token',
  50035: 'Invalid Form Body',
};

function statusText(status: number): string {
  const texts: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Request Entity Too Large', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };
  return `${status}: ${texts[status] ?? 'Error'}`;
}

// ---------------------------------------------------------------------------------------------

export class FakeDiscord {
  readonly token: string;
  readonly applicationId: string;
  readonly botUserId: string;
  readonly guildId: string;
  readonly channelId: string;
  readonly uploadLimitBytes: number;
  /** See FakeDiscordOptions.advertisedUploadLimitBytes (assignable, like uploadLimitBytes, between interactions). */
  advertisedUploadLimitBytes: number | undefined;
  /** Every REST call, in the order answered. */
  readonly calls: RecordedCall[] = [];
  /** Every download of an uploaded attachment (its CDN path): who fetched what users attached. */
  readonly attachmentReads: string[] = [];
  /** Requests Discord would reject (invalid bodies, limits, double acknowledgements, late callbacks...). */
  readonly violations: Violation[] = [];
  /** Requests to routes the fake does not know (answered 404 / 405). */
  readonly unexpectedCalls: RecordedCall[] = [];
  /** Every create/edit/delete of a message, in order. */
  readonly messageEvents: MessageEvent[] = [];

  private readonly opts: Required<Omit<FakeDiscordOptions, 'log' | 'applicationId' | 'botUserId' | 'guildId' | 'channelId' | 'token' | 'uploadLimitBytes' | 'advertisedUploadLimitBytes' | 'shards' | 'attachmentLinkLifetimeMs'>> & { log?: (line: string) => void };
  /** Signs attachment links (the `hm` of `?ex=…&is=…&hm=…`), so a link cannot be renewed by editing `ex`. */
  private readonly cdnSecret = randomBytes(32);
  private readonly linkLifetimeMs: number;
  /** How far the CDN's clock runs ahead of the real one (see `expireAttachmentLinks`). */
  private cdnClockOffsetMs = 0;
  /** Every refused download of an attachment link (expired or badly signed): its CDN path. */
  readonly refusedAttachmentReads: string[] = [];
  private readonly botUser: FakeUser;
  private readonly guilds = new Map<string, FakeGuild>();
  private readonly globalCommands: RegisteredCommand[] = [];
  private readonly guildCommands = new Map<string, RegisteredCommand[]>();
  private readonly interactions = new Map<string, InteractionState>();
  private readonly interactionsByToken = new Map<string, InteractionState>();
  private readonly messages = new Map<string, FakeMessage>();
  /** DM channels by id, each with the one user on the other side. */
  private readonly dmChannels = new Map<string, { id: string; recipient: FakeUser }>();
  /** The bot's permissions in channels where they differ from BOT_PERMISSIONS. */
  private readonly botChannelPermissions = new Map<string, bigint>();
  /** Shard count GET /gateway/bot recommends; may be changed between bot starts. */
  recommendedShards: number;
  private readonly blobs = new Map<string, StoredFile>();
  private readonly injections: Array<InjectRule & { remaining: number }> = [];
  private outage: (Required<OutageOptions> & { from: number }) | undefined;
  private rateLimit: { rate: number; retryAfter: number; scope: FaultScope; random: () => number } | undefined;
  /** Every outage so far: from, and to once ended. */
  readonly outages: Array<{ from: number; to?: number; scope: FaultScope }> = [];
  private readonly waiters = new Set<Waiter>();
  private readonly routes: Route[];
  private server!: Server;
  private gateway!: FakeGateway;
  private port = 0;
  private callCounter = 0;
  private messageSeq = 0;
  private closed = false;

  private constructor(options: FakeDiscordOptions) {
    this.token = options.token ?? 'fake-bot-token';
    this.applicationId = options.applicationId ?? '1300000000000000001';
    this.botUserId = options.botUserId ?? this.applicationId;
    this.guildId = options.guildId ?? '1300000000000000100';
    this.channelId = options.channelId ?? '1300000000000000200';
    this.uploadLimitBytes = options.uploadLimitBytes ?? 10 * 1024 * 1024;
    this.advertisedUploadLimitBytes = options.advertisedUploadLimitBytes;
    this.recommendedShards = options.shards ?? 1;
    this.linkLifetimeMs = options.attachmentLinkLifetimeMs ?? 24 * 60 * 60 * 1000;
    this.opts = {
      botUsername: options.botUsername ?? 'DrawBot',
      guildName: options.guildName ?? 'Test Server',
      guildLocale: options.guildLocale ?? 'en-US',
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41250,
      callbackDeadlineMs: options.callbackDeadlineMs ?? 3000,
      tokenLifetimeMs: options.tokenLifetimeMs ?? 15 * 60 * 1000,
      defaultTimeoutMs: options.defaultTimeoutMs ?? 5000,
      log: options.log,
    };
    this.botUser = botUserObject(this.botUserId, this.opts.botUsername);
    this.addGuild({ id: this.guildId, name: this.opts.guildName, locale: this.opts.guildLocale, channelId: this.channelId });
    this.routes = this.buildRoutes();
  }

  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const fake = new FakeDiscord(options);
    await fake.listen();
    return fake;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the bot passes as discord.js `rest.api` / DISCORD_API_URL. */
  get apiUrl(): string {
    return `${this.origin}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  private async listen(): Promise<void> {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.gateway = new FakeGateway(this.server, {
      token: this.token,
      applicationId: this.applicationId,
      botUser: this.botUser,
      heartbeatIntervalMs: this.opts.heartbeatIntervalMs,
      gatewayUrl: () => this.gatewayUrl,
      guilds: () => [...this.guilds.values()],
      changed: () => this.notify(),
      log: (line) => this.log(line),
    });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('FakeDiscord was closed while waiting'));
    }
    this.waiters.clear();
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------
  // Test-facing helpers: state, waiting, faults

  /** Adds another guild with one text channel; announced with GUILD_CREATE if the bot is connected. */
  addGuild(input: { id?: string; name?: string; locale?: string; channelId?: string } = {}): { guildId: string; channelId: string } {
    const id = input.id ?? snowflake();
    const channelId = input.channelId ?? snowflake();
    const guild: FakeGuild = {
      id,
      name: input.name ?? `Guild ${id.slice(-4)}`,
      locale: input.locale ?? 'en-US',
      ownerId: DEFAULT_USER_ID,
      joinedAt: new Date().toISOString(),
      channels: [{ id: channelId, guildId: id, name: 'general' }],
    };
    this.guilds.set(id, guild);
    if (this.gateway?.hasSession) this.gateway.dispatch('GUILD_CREATE', guildCreatePayload(guild, this.botUser), id);
    return { guildId: id, channelId };
  }

  /**
   * The bot's permissions in one channel (default BOT_PERMISSIONS): without SendMessages, posting there answers
   * 403 / 50013 (Missing Permissions), as Discord does; interactions from the channel carry them as app_permissions.
   */
  setBotPermissions(channelId: string, permissions: bigint | string): void {
    this.botChannelPermissions.set(channelId, BigInt(permissions));
  }

  /** Messages the bot sent `userId` in a direct message, oldest first (current state). */
  directMessages(userId: string): SeenMessage[] {
    const dm = [...this.dmChannels.values()].find((c) => c.recipient.id === userId);
    if (!dm) return [];
    return [...this.messages.values()]
      .filter((m) => m.channel_id === dm.id)
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
      .map((m) => this.seen(m));
  }

  /** The current gateway sessions with their `[shard_id, num_shards]`. */
  get sessions(): SessionRef[] {
    return this.gateway.shards;
  }

  /** The registered commands: global ones, or those of one guild. */
  commands(guildId?: string): RegisteredCommand[] {
    return structuredClone(guildId ? (this.guildCommands.get(guildId) ?? []) : this.globalCommands);
  }

  async waitForCommand(name: string, opts: { guildId?: string; timeoutMs?: number } = {}): Promise<RegisteredCommand> {
    return this.waitUntil(
      () => this.commands(opts.guildId).find((c) => c.name === name),
      opts.timeoutMs,
      () => `command "${name}" to be registered${opts.guildId ? ` in guild ${opts.guildId}` : ' globally'}`,
    );
  }

  async waitForCall(predicate: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall> {
    return this.waitUntil(() => this.calls.find(predicate), timeoutMs, () => `a REST call matching ${predicate.toString()}`);
  }

  /** The first message state (of any message) satisfying `predicate`, already seen or upcoming. */
  async waitForMessage(predicate: (message: SeenMessage) => boolean = () => true, timeoutMs?: number): Promise<SeenMessage> {
    return this.waitUntil(
      () => this.messageEvents.find((e) => e.kind !== 'delete' && predicate(e.message))?.message,
      timeoutMs,
      () => `a message matching ${predicate.toString()}`,
    );
  }

  /** Current state of a message, or undefined if unknown/deleted. */
  message(id: string): SeenMessage | undefined {
    const message = this.messages.get(id);
    return message ? this.seen(message) : undefined;
  }

  /** Bytes of an attachment by id or by its URL. */
  attachmentBytes(idOrUrl: string): Buffer | undefined {
    const id = idOrUrl.includes('/') ? idOrUrl.split('/').at(-2) : idOrUrl;
    return id ? this.blobs.get(id)?.bytes : undefined;
  }

  /**
   * Every attachment link issued so far stops working, as a day later: the CDN's clock jumps past their `ex`.
   * Links issued or refreshed afterwards (`POST /attachments/refresh-urls`) work for a lifetime again.
   */
  expireAttachmentLinks(): void {
    this.cdnClockOffsetMs += this.linkLifetimeMs + 60_000;
  }

  /** A new signed link to an attachment's bytes, as a user would copy from Discord (`?ex=…&is=…&hm=…`). */
  uploadAttachment(file: { filename: string; bytes: Buffer; contentType?: string }, channelId = this.channelId): FakeAttachment {
    return this.storeAttachment(channelId, file);
  }

  /** The next `times` requests matching `rule` get the given error instead of being handled. */
  inject(rule: InjectRule): void {
    this.injections.push({ ...rule, remaining: rule.times ?? 1 });
  }

  /**
   * Until `endOutage()`, every request in `scope` is answered `status` (503) without being handled, as during a
   * Discord incident. Recorded in `calls` with `injected` and `fault: 'outage'`.
   */
  startOutage(opts: OutageOptions = {}): void {
    const scope = opts.scope ?? 'all';
    this.outage = { status: opts.status ?? 503, scope, from: Date.now() };
    this.outages.push({ from: this.outage.from, scope });
  }

  endOutage(): void {
    if (!this.outage) return;
    this.outage = undefined;
    const last = this.outages.at(-1);
    if (last) last.to = Date.now();
    this.notify();
  }

  /** A seeded fraction of requests in `scope` answered 429 with Retry-After (a user-scoped limit); `null` stops it. */
  setRateLimit(opts: RateLimitOptions | null): void {
    this.rateLimit = opts ? { rate: opts.rate, retryAfter: opts.retryAfter ?? 1, scope: opts.scope ?? 'messages', random: seededRandom(opts.seed ?? 1) } : undefined;
  }

  /** A write of message content (what `scope: 'messages'` covers). */
  static isMessageWrite(call: Pick<RecordedCall, 'method' | 'route'>): boolean {
    if (call.method !== 'POST' && call.method !== 'PATCH') return false;
    return /^\/webhooks\/:applicationId\/:token(\/messages\/[^/]+)?$/.test(call.route ?? '') || /^\/channels\/:channelId\/messages(\/:messageId)?$/.test(call.route ?? '');
  }

  /** Throws a readable error if any request broke Discord's rules or hit an unknown route. */
  assertNoViolations(opts: { allowUnexpectedCalls?: boolean } = {}): void {
    const lines: string[] = [];
    for (const v of this.violations) {
      lines.push(`${v.method} ${v.path} → ${v.status}`);
      for (const issue of v.issues) lines.push(`    - ${issue}`);
    }
    if (!opts.allowUnexpectedCalls) {
      for (const c of this.unexpectedCalls) lines.push(`${c.method} ${c.path} → ${c.status} (route not known to the fake)`);
    }
    if (lines.length > 0) throw new Error(`Fake Discord saw requests Discord would reject:\n${lines.join('\n')}`);
  }

  /** Forgets recorded calls, violations and events (state such as messages and commands stays). */
  clearRecords(): void {
    this.calls.length = 0;
    this.violations.length = 0;
    this.unexpectedCalls.length = 0;
    this.messageEvents.length = 0;
    this.gateway.events.length = 0;
  }

  // -------------------------------------------------------------------------------------------
  // Driving users' actions

  async slashCommand(input: SlashCommandInput): Promise<FakeInteraction> {
    await this.waitForSession();
    const { guild, channel } = this.placeFor(input.guildId, input.channelId);
    const registered = [...(this.guildCommands.get(guild.id) ?? []), ...this.globalCommands];
    const command = findChatInputCommand(registered, input.name, guild.id, input.locale);
    const memberPermissions = String(input.memberPermissions ?? EVERYONE_PERMISSIONS);
    const required = command.default_member_permissions;
    if (typeof required === 'string' && required !== '' && !input.unchecked) {
      const have = BigInt(memberPermissions);
      if ((have & Permission.Administrator) === 0n && (have & BigInt(required)) !== BigInt(required)) {
        throw new Error(`User lacks default_member_permissions ${required} of /${command.name}; Discord would not show the command.`);
      }
    }
    const { options, resolved } = buildCommandOptions(command, input, {
      channel,
      channelById: (id) => this.channelById(id),
      storeAttachment: (file) => this.storeAttachment(channel.id, file),
    });
    const data: Record<string, unknown> = { id: command.id, name: command.name, type: command.type };
    if (options.length > 0) data.options = options;
    if (Object.keys(resolved).length > 0) data.resolved = resolved;
    if (command.guild_id) data.guild_id = command.guild_id;
    return this.dispatchInteraction(INTERACTION_COMMAND, data, { ...input, guild, channel, commandName: command.name });
  }

  async clickButton(input: ClickButtonInput): Promise<FakeInteraction> {
    await this.waitForSession();
    const message = this.clickableMessage(input.message);
    let button: Record<string, unknown> | undefined;
    walkComponents(message.components, (c) => {
      if (c.type === 2 && c.custom_id === input.customId) button = c;
    });
    if (!input.unchecked) {
      if (!button) {
        throw new Error(`Message ${message.id} has no button with custom_id "${input.customId}" (pass unchecked: true to forge the click). Buttons: ${describeButtons(message)}`);
      }
      if (button.disabled === true) throw new Error(`Button "${input.customId}" on message ${message.id} is disabled; users cannot click it.`);
    }
    const data: Record<string, unknown> = { custom_id: input.customId, component_type: 2 };
    if (typeof button?.id === 'number') data.id = button.id;
    return this.dispatchInteraction(INTERACTION_COMPONENT, data, { ...input, ...this.placeOf(message), sourceMessage: message });
  }

  async selectMenu(input: SelectMenuInput): Promise<FakeInteraction> {
    await this.waitForSession();
    const message = this.clickableMessage(input.message);
    let select: Record<string, unknown> | undefined;
    walkComponents(message.components, (c) => {
      if ([3, 5, 6, 7, 8].includes(Number(c.type)) && c.custom_id === input.customId) select = c;
    });
    if (!select && !input.unchecked) throw new Error(`Message ${message.id} has no select menu with custom_id "${input.customId}".`);
    if (select?.type === 3 && !input.unchecked) {
      const allowed = new Set((select.options as Array<{ value: string }> | undefined ?? []).map((o) => o.value));
      const bad = input.values.filter((v) => !allowed.has(v));
      if (bad.length > 0) throw new Error(`Select "${input.customId}" has no option(s) ${bad.join(', ')}.`);
    }
    const data = { custom_id: input.customId, component_type: select?.type ?? 3, values: input.values };
    return this.dispatchInteraction(INTERACTION_COMPONENT, data, { ...input, ...this.placeOf(message), sourceMessage: message });
  }

  async submitModal(input: SubmitModalInput): Promise<FakeInteraction> {
    await this.waitForSession();
    const modal = input.from?.callbacks.find((c) => c.type === 9)?.data;
    if (input.from && !modal) throw new Error(`Interaction ${input.from.id} did not answer with a modal (callback type 9).`);
    const values = { ...input.values };
    const fill = (component: Record<string, unknown>): Record<string, unknown> => {
      const customId = String(component.custom_id);
      const value = values[customId] ?? String(component.value ?? '');
      delete values[customId];
      if (!input.unchecked) {
        if (component.required !== false && value === '') throw new Error(`Modal field "${customId}" is required.`);
        if (typeof component.max_length === 'number' && value.length > component.max_length) {
          throw new Error(`Modal field "${customId}" allows at most ${component.max_length} characters.`);
        }
        if (typeof component.min_length === 'number' && value.length > 0 && value.length < component.min_length) {
          throw new Error(`Modal field "${customId}" needs at least ${component.min_length} characters.`);
        }
      }
      return { type: 4, ...(typeof component.id === 'number' ? { id: component.id } : {}), custom_id: customId, value };
    };
    let components: Array<Record<string, unknown>>;
    if (modal) {
      components = [];
      for (const top of (modal.components as Array<Record<string, unknown>>) ?? []) {
        const id = typeof top.id === 'number' ? { id: top.id } : {};
        if (top.type === 1 && Array.isArray(top.components)) {
          components.push({ type: 1, ...id, components: (top.components as Array<Record<string, unknown>>).filter((c) => c.type === 4).map(fill) });
        } else if (top.type === 18 && isRecord(top.component) && top.component.type === 4) {
          components.push({ type: 18, ...id, component: fill(top.component) });
        }
      }
      const unknown = Object.keys(values);
      if (unknown.length > 0 && !input.unchecked) throw new Error(`The modal has no text input(s) ${unknown.join(', ')}.`);
    } else {
      components = Object.entries(values).map(([custom_id, value]) => ({ type: 1, components: [{ type: 4, custom_id, value }] }));
    }
    const customId = input.customId ?? (modal ? String(modal.custom_id) : undefined);
    if (!customId) throw new Error('submitModal needs `from` (an interaction answered with a modal) or `customId`.');
    const from = input.from ? this.interactions.get(input.from.id) : undefined;
    const sourceMessage = from?.sourceMessageId ? this.messages.get(from.sourceMessageId) : undefined;
    const place = from ? this.placeFor(from.guildId, from.channelId) : this.placeFor(undefined, undefined);
    return this.dispatchInteraction(INTERACTION_MODAL_SUBMIT, { custom_id: customId, components }, {
      ...input,
      ...place,
      ...(sourceMessage ? { sourceMessage } : {}),
    });
  }

  /** The interaction handle for an id (e.g. found in a recorded call). */
  interaction(id: string): FakeInteraction | undefined {
    const state = this.interactions.get(id);
    return state ? new FakeInteraction(this.interactionHost(), state) : undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Gateway control

  get gatewayEvents(): GatewayEvent[] {
    return this.gateway.events;
  }

  /** Resolves once the bot has an identified (or resumed) gateway connection. */
  async waitForReady(timeoutMs?: number): Promise<void> {
    await this.waitUntil(() => (this.gateway.isReady ? true : undefined), timeoutMs, () => 'the bot to identify on the gateway (READY)');
  }

  /**
   * User actions need a gateway session. While the bot is reconnecting they are still dispatched:
   * Discord queues them and replays them on RESUME (the 3 s deadline keeps running meanwhile).
   */
  private async waitForSession(): Promise<void> {
    await this.waitUntil(() => (this.gateway.hasSession ? true : undefined), undefined, () => 'the bot to identify on the gateway (READY)');
  }

  /** Resolves at the first RESUMED at or after `since` (default: now). */
  async waitForResumed(opts: { since?: number; timeoutMs?: number } = {}): Promise<GatewayEvent> {
    const since = opts.since ?? Date.now();
    return this.waitUntil(() => this.gatewayEvents.find((e) => e.kind === 'resumed' && e.at >= since), opts.timeoutMs, () => 'a gateway RESUME');
  }

  async waitForGateway(predicate: (event: GatewayEvent) => boolean, timeoutMs?: number): Promise<GatewayEvent> {
    return this.waitUntil(() => this.gatewayEvents.find(predicate), timeoutMs, () => `a gateway event matching ${predicate.toString()}`);
  }

  /**
   * Drops the bot's gateway socket. Without a code it is cut like a network failure (the bot
   * should RESUME); 4000-4999 close codes are sent as Discord would. Events dispatched meanwhile
   * are replayed on resume.
   */
  async disconnectGateway(code?: number, shard?: number): Promise<void> {
    await this.gateway.disconnect(code, shard);
  }

  /**
   * Sends a raw dispatch to the bot (e.g. GUILD_UPDATE), to the sessions of the shard of the guild it is about
   * (`guild_id`, or `id` for GUILD_CREATE/UPDATE/DELETE); queued while a session is reconnecting.
   */
  dispatch(event: string, data: unknown): SessionRef[] {
    const d = isRecord(data) ? data : {};
    const guildId = typeof d.guild_id === 'string' ? d.guild_id : /^GUILD_(CREATE|UPDATE|DELETE)$/.test(event) && typeof d.id === 'string' ? d.id : undefined;
    return this.gateway.dispatch(event, data, guildId);
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', this.origin);
    try {
      if (method === 'GET' && url.pathname.startsWith('/attachments/')) {
        this.serveAttachment(url, res);
        return;
      }
      const raw = await readBody(req);
      await this.handleApiRequest(method, url, req, raw, res);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      this.log(`fake error: ${message}`);
      this.violations.push({ at: Date.now(), method, path: url.pathname, route: null, status: 500, issues: [`FakeDiscord internal error: ${message}`] });
      if (!res.headersSent) writeJson(res, 500, { message: '500: Internal Server Error', code: 0 });
    }
  }

  private serveAttachment(url: URL, res: ServerResponse): void {
    const id = url.pathname.split('/')[3] ?? '';
    this.attachmentReads.push(url.pathname);
    const blob = this.blobs.get(id);
    // Discord's CDN refuses an attachment link without a valid signature, or past its `ex`, with a 404.
    if (blob && !this.linkWorks(url)) {
      this.refusedAttachmentReads.push(url.pathname);
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('This content is no longer available.');
      return;
    }
    if (!blob) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found');
      return;
    }
    res.writeHead(200, { 'Content-Type': blob.contentType, 'Content-Length': String(blob.bytes.length) }).end(blob.bytes);
  }

  private async handleApiRequest(method: string, url: URL, req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
    const underApi = url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`);
    const segments = (underApi ? url.pathname.slice(API_PREFIX.length) : url.pathname).split('/').filter(Boolean).map(safeDecode);
    const path = `/${segments.join('/')}`;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const parsed = await parseBody(headers['content-type'], raw);
    const call: RecordedCall = {
      id: ++this.callCounter,
      at: Date.now(),
      method,
      path: underApi ? path : url.pathname,
      route: null,
      params: {},
      query: Object.fromEntries(url.searchParams),
      headers,
      body: parsed.body,
      files: parsed.files,
      status: 0,
      response: undefined,
      injected: false,
    };
    const match = underApi ? this.matchRoute(method, segments) : undefined;
    if (match?.route) {
      call.params = match.params;
      call.route = match.params.messageId === '@original' ? match.route.template.replace(':messageId', '@original') : match.route.template;
    }

    const result = await this.answer(call, match, url.searchParams, parsed);
    call.status = result.status;
    call.response = result.body;
    this.calls.push(call);
    if (!match?.route && !call.injected) this.unexpectedCalls.push(call);
    this.log(`${method} ${call.path}${url.search} → ${result.status}`);
    this.notify();
    if (result.status === 204 || result.body === undefined) res.writeHead(result.status, result.headers).end();
    else writeJson(res, result.status, result.body, result.headers);
  }

  private async answer(
    call: RecordedCall,
    match: { route?: Route; pathMatched: boolean; params: Record<string, string> } | undefined,
    query: URLSearchParams,
    parsed: ParsedBody,
  ): Promise<HandlerResult> {
    const injected = this.takeInjection(call) ?? this.standingFault(call);
    if (injected) {
      call.injected = true;
      return injected;
    }
    if (!match?.route) {
      return match?.pathMatched
        ? { status: 405, body: { message: '405: Method Not Allowed', code: 0 } }
        : { status: 404, body: { message: '404: Not Found', code: 0 } };
    }
    const violation = (status: number, issues: string[]) =>
      this.violations.push({ at: Date.now(), method: call.method, path: call.path, route: call.route, status, issues });
    if (parsed.error) {
      violation(400, [parsed.error]);
      return { status: 400, body: { message: 'The request body contains invalid JSON.', code: 50109 } };
    }
    if (match.route.auth && call.headers.authorization !== `Bot ${this.token}`) {
      violation(401, [`Authorization header must be "Bot <token>" (got ${call.headers.authorization === undefined ? 'none' : 'a different value'})`]);
      return { status: 401, body: { message: '401: Unauthorized', code: 0 } };
    }
    try {
      return await match.route.handler({ call, params: match.params, query, body: parsed.body, files: parsed.files });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return { status: error.status, body: { message: error.message, code: error.code, ...error.extra } };
    }
  }

  private takeInjection(call: RecordedCall): HandlerResult | undefined {
    const index = this.injections.findIndex(
      (rule) =>
        rule.remaining > 0 &&
        (!rule.method || rule.method.toUpperCase() === call.method) &&
        (typeof rule.path === 'string' ? rule.path === call.path || rule.path === call.route : rule.path.test(call.path)),
    );
    const rule = this.injections[index];
    if (!rule) return undefined;
    if (--rule.remaining <= 0) this.injections.splice(index, 1);
    if (rule.status === 429) return this.rateLimited(call, rule.retryAfter ?? 1, Boolean(rule.global), rule.message, rule.code);
    const code = rule.code ?? 0;
    return { status: rule.status, body: { message: rule.message ?? (code ? (ERROR_MESSAGES[code] ?? 'Error') : statusText(rule.status)), code } };
  }

  private rateLimited(call: RecordedCall, retryAfter: number, global: boolean, message?: string, code?: number): HandlerResult {
    const headers: Record<string, string> = {
      'Retry-After': String(retryAfter),
      'X-RateLimit-Limit': '5',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String(Date.now() / 1000 + retryAfter),
      'X-RateLimit-Reset-After': String(retryAfter),
      'X-RateLimit-Bucket': createHash('sha1').update(`${call.method} ${call.route ?? call.path}`).digest('hex').slice(0, 32),
      'X-RateLimit-Scope': global ? 'global' : 'user',
    };
    if (global) headers['X-RateLimit-Global'] = 'true';
    return { status: 429, headers, body: { message: message ?? 'You are being rate limited.', retry_after: retryAfter, global, ...(code === undefined ? {} : { code }) } };
  }

  /** The outage or the random rate limit, when one is on and covers this request. */
  private standingFault(call: RecordedCall): HandlerResult | undefined {
    const covers = (scope: FaultScope) => scope === 'all' || FakeDiscord.isMessageWrite(call);
    if (this.outage && covers(this.outage.scope)) {
      call.fault = 'outage';
      return { status: this.outage.status, body: { message: statusText(this.outage.status), code: 0 } };
    }
    // Drawn only for covered requests, so the sequence of hits depends on the seed and the bot's writes alone.
    if (this.rateLimit && covers(this.rateLimit.scope) && this.rateLimit.random() < this.rateLimit.rate) {
      call.fault = 'rateLimit';
      return this.rateLimited(call, this.rateLimit.retryAfter, false);
    }
    return undefined;
  }

  private matchRoute(method: string, segments: string[]): { route?: Route; pathMatched: boolean; params: Record<string, string> } {
    let pathMatched = false;
    for (const route of this.routes) {
      const parts = route.template.split('/').filter(Boolean);
      if (parts.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const ok = parts.every((part, i) => {
        const seg = segments[i] ?? '';
        if (part.startsWith(':')) {
          params[part.slice(1)] = seg;
          return seg.length > 0;
        }
        return part === seg;
      });
      if (!ok) continue;
      pathMatched = true;
      if (route.method === method) return { route, pathMatched, params };
    }
    return { pathMatched, params: {} };
  }

  private buildRoutes(): Route[] {
    const r = (method: string, template: string, auth: boolean, handler: Route['handler']): Route => ({ method, template, auth, handler });
    return [
      r('GET', '/gateway', false, () => ({ status: 200, body: { url: this.gatewayUrl } })),
      r('GET', '/gateway/bot', true, () => ({
        status: 200,
        body: { url: this.gatewayUrl, shards: this.recommendedShards, session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 } },
      })),
      r('GET', '/users/@me', true, () => ({ status: 200, body: this.botUser })),
      r('POST', '/users/@me/channels', true, (ctx) => this.openDm(ctx)),
      r('GET', '/users/:userId', true, (ctx) => ({ status: 200, body: userObject(ctx.params.userId ?? '') })),
      r('GET', '/applications/@me', true, () => ({ status: 200, body: this.applicationObject() })),
      r('GET', '/applications/:applicationId/commands', true, (ctx) => this.listCommands(ctx)),
      r('PUT', '/applications/:applicationId/commands', true, (ctx) => this.overwriteCommands(ctx)),
      r('POST', '/applications/:applicationId/commands', true, (ctx) => this.createCommand(ctx)),
      r('GET', '/applications/:applicationId/guilds/:guildId/commands', true, (ctx) => this.listCommands(ctx)),
      r('PUT', '/applications/:applicationId/guilds/:guildId/commands', true, (ctx) => this.overwriteCommands(ctx)),
      r('POST', '/applications/:applicationId/guilds/:guildId/commands', true, (ctx) => this.createCommand(ctx)),
      r('POST', '/interactions/:interactionId/:token/callback', false, (ctx) => this.interactionCallback(ctx)),
      r('POST', '/webhooks/:applicationId/:token', false, (ctx) => this.webhookExecute(ctx)),
      r('GET', '/webhooks/:applicationId/:token/messages/:messageId', false, (ctx) => this.webhookMessage(ctx, 'GET')),
      r('PATCH', '/webhooks/:applicationId/:token/messages/:messageId', false, (ctx) => this.webhookMessage(ctx, 'PATCH')),
      r('DELETE', '/webhooks/:applicationId/:token/messages/:messageId', false, (ctx) => this.webhookMessage(ctx, 'DELETE')),
      r('GET', '/channels/:channelId', true, (ctx) => {
        const dm = this.dmChannels.get(ctx.params.channelId ?? '');
        if (dm) return { status: 200, body: dmChannelObject(dm) };
        return { status: 200, body: channelObject(this.channelOr404(ctx.params.channelId)) };
      }),
      r('GET', '/channels/:channelId/messages', true, (ctx) => this.listChannelMessages(ctx)),
      r('POST', '/channels/:channelId/messages', true, (ctx) => this.createChannelMessage(ctx)),
      r('GET', '/channels/:channelId/messages/:messageId', true, (ctx) => this.channelMessage(ctx, 'GET')),
      r('PATCH', '/channels/:channelId/messages/:messageId', true, (ctx) => this.channelMessage(ctx, 'PATCH')),
      r('DELETE', '/channels/:channelId/messages/:messageId', true, (ctx) => this.channelMessage(ctx, 'DELETE')),
      r('POST', '/attachments/refresh-urls', true, (ctx) => this.refreshAttachmentUrls(ctx)),
      r('GET', '/guilds/:guildId', true, (ctx) => {
        const guild = this.guilds.get(ctx.params.guildId ?? '');
        if (!guild) throw new ApiError(404, 10004, 'Unknown Guild');
        return { status: 200, body: guildObject(guild) };
      }),
    ];
  }

  /** Records a violation and throws the 400 (or 413 / special code) Discord would answer. */
  private reject(ctx: RequestContext, rawIssues: Issue[]): void {
    const issues = dedupeIssues(rawIssues);
    if (issues.length === 0) return;
    const special = issues.find((i) => i.jsonCode !== undefined);
    const status = 400;
    this.violations.push({ at: Date.now(), method: ctx.call.method, path: ctx.call.path, route: ctx.call.route, status, issues: issues.map(formatIssue) });
    if (special?.jsonCode !== undefined) throw new ApiError(status, special.jsonCode, special.message);
    throw new ApiError(status, 50035, 'Invalid Form Body', { errors: discordErrorTree(issues) });
  }

  /** Discord refuses files over the upload limit with 413 / 40005 before looking at the payload. */
  private checkUploadSize(ctx: RequestContext): void {
    const tooBig = ctx.files.filter((f) => f.size > this.uploadLimitBytes);
    if (tooBig.length === 0) return;
    this.violations.push({
      at: Date.now(),
      method: ctx.call.method,
      path: ctx.call.path,
      route: ctx.call.route,
      status: 413,
      issues: tooBig.map((f) => `${f.field} (${f.filename}) is ${f.size} bytes; the upload limit is ${this.uploadLimitBytes}`),
    });
    throw new ApiError(413, 40005, 'Request entity too large');
  }

  private violation(ctx: RequestContext, status: number, issue: string): void {
    this.violations.push({ at: Date.now(), method: ctx.call.method, path: ctx.call.path, route: ctx.call.route, status, issues: [issue] });
  }

  // -------------------------------------------------------------------------------------------
  // Application & commands

  private applicationObject(): Record<string, unknown> {
    return {
      id: this.applicationId,
      name: this.opts.botUsername,
      icon: null,
      description: '',
      summary: '',
      type: null,
      bot_public: true,
      bot_require_code_grant: false,
      verify_key: '0'.repeat(64),
      flags: 0,
      hook: true,
      is_monetized: false,
      is_verified: false,
      is_discoverable: false,
      storefront_available: false,
      owner: userObject(DEFAULT_USER_ID, 'owner'),
      team: null,
      bot: this.botUser,
      approximate_guild_count: this.guilds.size,
      approximate_user_install_count: 0,
      interactions_endpoint_url: null,
      redirect_uris: [],
      tags: [],
      integration_types_config: { '0': {} },
      explicit_content_filter: 0,
    };
  }

  private commandStore(ctx: RequestContext): RegisteredCommand[] {
    if (ctx.params.applicationId !== this.applicationId) throw new ApiError(403, 50001, 'Missing Access');
    const guildId = ctx.params.guildId;
    if (!guildId) return this.globalCommands;
    if (!this.guilds.has(guildId)) throw new ApiError(403, 50001, 'Missing Access');
    let list = this.guildCommands.get(guildId);
    if (!list) this.guildCommands.set(guildId, (list = []));
    return list;
  }

  private listCommands(ctx: RequestContext): HandlerResult {
    return { status: 200, body: this.commandStore(ctx) };
  }

  private overwriteCommands(ctx: RequestContext): HandlerResult {
    const store = this.commandStore(ctx);
    const body = ctx.body;
    const list = Array.isArray(body) ? body : [];
    this.reject(ctx, [
      ...schemaIssues(schemas.commandsOverwrite, Array.isArray(body) ? body.map(normalizeCommandForSchema) : body),
      ...commandListIssues(list),
    ]);
    // Bulk overwrite keeps the id of a command that keeps its name and type.
    const next = list.map((input) => toRegisteredCommand(input as Record<string, unknown>, store, ctx.params.guildId, this.applicationId));
    store.splice(0, store.length, ...next);
    return { status: 200, body: store };
  }

  private createCommand(ctx: RequestContext): HandlerResult {
    const store = this.commandStore(ctx);
    this.reject(ctx, [...schemaIssues(schemas.commandCreate, normalizeCommandForSchema(ctx.body)), ...commandIssues(ctx.body, [])]);
    const command = toRegisteredCommand(ctx.body as Record<string, unknown>, store, ctx.params.guildId, this.applicationId);
    const index = store.findIndex((c) => c.id === command.id);
    if (index >= 0) store[index] = command;
    else store.push(command);
    return { status: index >= 0 ? 200 : 201, body: command };
  }

  // -------------------------------------------------------------------------------------------
  // Interactions

  private interactionHost(): InteractionHost {
    return {
      waitUntil: (check, timeoutMs, describe) => this.waitUntil(check, timeoutMs, describe),
      events: () => this.messageEvents,
      current: (id) => this.message(id),
    };
  }

  private async dispatchInteraction(
    type: number,
    data: Record<string, unknown>,
    ctx: UserContext & { guild: FakeGuild; channel: FakeChannel; commandName?: string; sourceMessage?: FakeMessage },
  ): Promise<FakeInteraction> {
    const id = snowflake();
    const token = interactionToken();
    const user = userObject(ctx.userId ?? DEFAULT_USER_ID, ctx.username);
    const memberPermissions = String(ctx.memberPermissions ?? EVERYONE_PERMISSIONS);
    const appPermissions = String(ctx.appPermissions ?? this.botChannelPermissions.get(ctx.channel.id) ?? BOT_PERMISSIONS);
    const payload: Record<string, unknown> = {
      id,
      application_id: this.applicationId,
      type,
      data,
      guild_id: ctx.guild.id,
      guild: { id: ctx.guild.id, locale: ctx.guild.locale, features: [] },
      channel_id: ctx.channel.id,
      channel: { ...channelObject(ctx.channel), permissions: memberPermissions },
      member: memberObject(user, ctx.guild.joinedAt, memberPermissions),
      token,
      version: 1,
      locale: ctx.locale ?? 'en-US',
      guild_locale: ctx.guild.locale,
      app_permissions: appPermissions,
      entitlements: [],
      authorizing_integration_owners: { '0': ctx.guild.id },
      context: 0,
      attachment_size_limit: this.advertisedUploadLimitBytes ?? this.uploadLimitBytes,
      entitlement_sku_ids: [],
    };
    if (ctx.sourceMessage) payload.message = structuredClone(ctx.sourceMessage);
    const state: InteractionState = {
      id,
      token,
      type,
      payload,
      createdAt: Date.now(),
      acknowledged: false,
      expired: false,
      guildId: ctx.guild.id,
      channelId: ctx.channel.id,
      user,
      messageIds: [],
      callbacks: [],
      edits: [],
      deliveredTo: [],
      ...(ctx.commandName ? { commandName: ctx.commandName } : {}),
      ...(ctx.sourceMessage ? { sourceMessageId: ctx.sourceMessage.id } : {}),
    };
    this.interactions.set(id, state);
    this.interactionsByToken.set(token, state);
    // Discord sends it to the session of the guild's shard only; with none, the user's click goes nowhere.
    state.deliveredTo = this.gateway.dispatch('INTERACTION_CREATE', payload, ctx.guild.id);
    if (state.deliveredTo.length === 0) {
      const serving = this.gateway.shards.map((r) => r.shard.join('/')).join(', ');
      this.violations.push({
        at: Date.now(),
        method: 'GATEWAY',
        path: 'INTERACTION_CREATE',
        route: null,
        status: 0,
        issues: [`Interaction ${id} in guild ${ctx.guild.id} was not delivered: no gateway session serves its shard (sessions: ${serving || 'none'})`],
      });
    }
    return new FakeInteraction(this.interactionHost(), state);
  }

  private async interactionCallback(ctx: RequestContext): Promise<HandlerResult> {
    const state = this.interactions.get(ctx.params.interactionId ?? '');
    if (!state || state.token !== ctx.params.token) throw new ApiError(404, 10062, 'Unknown interaction');
    const body = isRecord(ctx.body) ? ctx.body : {};
    const type = Number(body.type);
    const data = isRecord(body.data) ? body.data : undefined;

    this.checkUploadSize(ctx);
    const fileKeys = ctx.files.map((f) => f.field);
    const issues = schemaIssues(schemas.interactionCallback, ctx.body);
    const fromMessage = state.sourceMessageId !== undefined;
    if (type === 4) issues.push(...messageIssues(data ?? {}, { fileKeys, creates: true }, ['data']));
    if (type === 7) {
      const source = state.sourceMessageId ? this.messages.get(state.sourceMessageId) : undefined;
      issues.push(...messageIssues(data ?? {}, { fileKeys, existingAttachmentIds: new Set(source?.attachments.map((a) => a.id)) }, ['data']));
    }
    if ((type === 6 || type === 7) && !fromMessage) {
      issues.push({ path: ['type'], code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: `Callback type ${type} only answers component interactions (or modals opened from one).` });
    }
    if (type === 9) {
      issues.push(...modalIssues(data, ['data']));
      if (state.type === INTERACTION_MODAL_SUBMIT || state.type === INTERACTION_AUTOCOMPLETE) {
        issues.push({ path: ['type'], code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'A modal cannot answer a modal submit or autocomplete interaction.' });
      }
    }
    if (type === 8 && state.type !== INTERACTION_AUTOCOMPLETE) {
      issues.push({ path: ['type'], code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Autocomplete results only answer autocomplete interactions.' });
    }
    if ((type === 4 || type === 5 || type === 6 || type === 7 || type === 9) && state.type === INTERACTION_AUTOCOMPLETE) {
      issues.push({ path: ['type'], code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Autocomplete interactions can only be answered with type 8.' });
    }
    if (type === 1) issues.push({ path: ['type'], code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'PONG only answers HTTP pings, not gateway interactions.' });
    this.reject(ctx, issues);

    const age = Date.now() - state.createdAt;
    if (age > this.opts.callbackDeadlineMs) {
      this.violation(ctx, 404, `Interaction callback arrived ${age} ms after the interaction (Discord allows ${this.opts.callbackDeadlineMs} ms): defer first, work later`);
      throw new ApiError(404, 10062, 'Unknown interaction');
    }
    if (state.acknowledged) {
      this.violation(ctx, 400, `Interaction ${state.id} was already acknowledged (callback type ${state.callbacks[0]?.type ?? '?'})`);
      throw new ApiError(400, 40060, 'Interaction has already been acknowledged.');
    }

    let message: FakeMessage | undefined;
    if (type === 4 || type === 5) {
      const flags = Number(data?.flags ?? 0);
      message = this.createMessage({
        channelId: state.channelId,
        payload: type === 4 ? (data ?? {}) : { flags: flags & FLAG_EPHEMERAL },
        files: type === 4 ? ctx.files : [],
        interaction: state,
        loading: type === 5,
      });
      state.originalMessageId = message.id;
    } else if ((type === 6 || type === 7) && state.sourceMessageId) {
      state.originalMessageId = state.sourceMessageId;
      const source = this.messages.get(state.sourceMessageId);
      if (type === 7 && source) message = this.editMessage(ctx, source, data ?? {}, ctx.files, state);
      else message = source;
    }
    // Acknowledged only once the answer was accepted (a refused type 7 edit leaves it open).
    state.acknowledged = true;
    state.callbacks.push({ at: Date.now(), type, data, files: ctx.files });
    this.notify();

    if (ctx.query.get('with_response') !== 'true') return { status: 204 };
    return {
      status: 200,
      body: {
        interaction: {
          id: state.id,
          type: state.type,
          activity_instance_id: null,
          response_message_id: message?.id ?? null,
          response_message_loading: type === 5,
          response_message_ephemeral: message ? (message.flags & FLAG_EPHEMERAL) !== 0 : false,
        },
        ...(type === 4 || type === 5 || type === 7 ? { resource: { type, ...(message ? { message } : {}) } } : {}),
      },
    };
  }

  /** Resolves the interaction behind a webhook token, answering like Discord when it cannot. */
  private interactionForWebhook(ctx: RequestContext): InteractionState {
    if (ctx.params.applicationId !== this.applicationId) throw new ApiError(404, 10015, 'Unknown Webhook');
    const state = this.interactionsByToken.get(ctx.params.token ?? '');
    if (!state || state.expired || Date.now() - state.createdAt > this.opts.tokenLifetimeMs) {
      throw new ApiError(401, 50027, 'Invalid Webhook Token');
    }
    return state;
  }

  private async webhookExecute(ctx: RequestContext): Promise<HandlerResult> {
    const state = this.interactionForWebhook(ctx);
    this.checkUploadSize(ctx);
    this.reject(ctx, [
      ...schemaIssues(schemas.webhookExecute, ctx.body),
      ...messageIssues(ctx.body, { fileKeys: ctx.files.map((f) => f.field), creates: true }),
    ]);
    // Follow-ups need the interaction to be acknowledged first.
    if (!state.acknowledged) throw new ApiError(404, 10015, 'Unknown Webhook');
    const message = this.createMessage({ channelId: state.channelId, payload: ctx.body as Record<string, unknown>, files: ctx.files, interaction: state, followUp: true });
    this.notify();
    return ctx.query.get('wait') === 'true' ? { status: 200, body: message } : { status: 204 };
  }

  private async webhookMessage(ctx: RequestContext, method: 'GET' | 'PATCH' | 'DELETE'): Promise<HandlerResult> {
    const state = this.interactionForWebhook(ctx);
    const isOriginal = ctx.params.messageId === '@original';
    const messageId = isOriginal ? state.originalMessageId : ctx.params.messageId;
    const message = messageId ? this.messages.get(messageId) : undefined;
    const reachable = message && (messageId === state.originalMessageId || state.messageIds.includes(message.id));
    if (method === 'PATCH') {
      // Validate before looking the message up, as Discord does.
      this.checkUploadSize(ctx);
      this.reject(ctx, [
        ...schemaIssues(schemas.webhookMessageEdit, ctx.body),
        ...messageIssues(ctx.body, { fileKeys: ctx.files.map((f) => f.field), existingAttachmentIds: new Set(message?.attachments.map((a) => a.id)) }),
      ]);
    }
    if (!message || !reachable) throw new ApiError(404, 10008, 'Unknown Message');
    if (method === 'GET') return { status: 200, body: message };
    if (method === 'DELETE') {
      this.deleteMessage(message, state);
      return { status: 204 };
    }
    const payload = isRecord(ctx.body) ? ctx.body : {};
    const edited = this.editMessage(ctx, message, payload, ctx.files, state);
    if (message.id === state.originalMessageId) {
      state.edits.push({ at: Date.now(), messageId: message.id, payload, files: ctx.files, message: this.seen(edited) });
    }
    this.notify();
    return { status: 200, body: edited };
  }

  // -------------------------------------------------------------------------------------------
  // Channels & messages

  private channelOr404(channelId: string | undefined): FakeChannel {
    const channel = this.channelById(channelId ?? '');
    if (!channel) throw new ApiError(404, 10003, 'Unknown Channel');
    return channel;
  }

  private visibleChannelMessage(ctx: RequestContext): FakeMessage {
    const channel = this.channelOr404(ctx.params.channelId);
    const message = this.messages.get(ctx.params.messageId ?? '');
    // Ephemeral messages exist only for their user; the bot token cannot see them.
    if (!message || message.channel_id !== channel.id || (message.flags & FLAG_EPHEMERAL) !== 0) {
      throw new ApiError(404, 10008, 'Unknown Message');
    }
    return message;
  }

  private listChannelMessages(ctx: RequestContext): HandlerResult {
    const channel = this.channelOr404(ctx.params.channelId);
    const limit = Math.min(100, Number(ctx.query.get('limit') ?? 50) || 50);
    const list = [...this.messages.values()]
      .filter((m) => m.channel_id === channel.id && (m.flags & FLAG_EPHEMERAL) === 0)
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
      .slice(0, limit);
    return { status: 200, body: list };
  }

  /** POST /users/@me/channels {recipient_id}: the DM channel with a user (the same one every time). */
  private openDm(ctx: RequestContext): HandlerResult {
    const recipientId = isRecord(ctx.body) ? ctx.body.recipient_id : undefined;
    if (typeof recipientId !== 'string' || !/^\d{17,20}$/.test(recipientId)) {
      this.violation(ctx, 400, 'recipient_id must be a user id');
      throw new ApiError(400, 50035, 'Invalid Form Body');
    }
    let dm = [...this.dmChannels.values()].find((c) => c.recipient.id === recipientId);
    if (!dm) {
      dm = { id: snowflake(), recipient: userObject(recipientId) };
      this.dmChannels.set(dm.id, dm);
    }
    return { status: 200, body: dmChannelObject(dm) };
  }

  private createChannelMessage(ctx: RequestContext): HandlerResult {
    const dm = this.dmChannels.get(ctx.params.channelId ?? '');
    const channel = dm ? { id: dm.id } : this.channelOr404(ctx.params.channelId);
    const perms = this.botChannelPermissions.get(channel.id);
    const needed = Permission.ViewChannel | Permission.SendMessages | (ctx.files.length > 0 ? Permission.AttachFiles : 0n);
    // Discord checks permissions before the payload; the bot must cope (it is not a broken request).
    if (perms !== undefined && (perms & Permission.Administrator) === 0n && (perms & needed) !== needed) {
      throw new ApiError(403, 50013, 'Missing Permissions');
    }
    this.checkUploadSize(ctx);
    this.reject(ctx, [
      ...schemaIssues(schemas.channelMessageCreate, ctx.body),
      ...messageIssues(ctx.body, { fileKeys: ctx.files.map((f) => f.field), creates: true }),
    ]);
    const payload = isRecord(ctx.body) ? ctx.body : {};
    if ((Number(payload.flags ?? 0) & FLAG_EPHEMERAL) !== 0) {
      this.reject(ctx, [{ path: ['flags'], code: 'MESSAGE_FLAGS_INVALID', message: 'Only interaction responses can be ephemeral.' }]);
    }
    const message = this.createMessage({ channelId: channel.id, payload, files: ctx.files });
    this.notify();
    return { status: 200, body: message };
  }

  private channelMessage(ctx: RequestContext, method: 'GET' | 'PATCH' | 'DELETE'): HandlerResult {
    if (method === 'PATCH') {
      this.checkUploadSize(ctx);
      this.reject(ctx, [
        ...schemaIssues(schemas.channelMessageEdit, ctx.body),
        ...messageIssues(ctx.body, { fileKeys: ctx.files.map((f) => f.field), existingAttachmentIds: new Set(this.messages.get(ctx.params.messageId ?? '')?.attachments.map((a) => a.id)) }),
      ]);
    }
    const message = this.visibleChannelMessage(ctx);
    if (method === 'GET') return { status: 200, body: message };
    if (method === 'DELETE') {
      this.deleteMessage(message, undefined);
      return { status: 204 };
    }
    if (message.author.id !== this.botUserId) throw new ApiError(403, 50005, 'Cannot edit a message authored by another user');
    const edited = this.editMessage(ctx, message, isRecord(ctx.body) ? ctx.body : {}, ctx.files, undefined);
    this.notify();
    return { status: 200, body: edited };
  }

  private storeAttachment(channelId: string, file: { filename: string; bytes: Buffer; contentType?: string | undefined }, extra: Record<string, unknown> = {}): FakeAttachment {
    const id = snowflake();
    const contentType = guessContentType(file.filename, file.contentType);
    this.blobs.set(id, { bytes: file.bytes, contentType, filename: file.filename });
    const url = this.signedLink(`/attachments/${channelId}/${id}/${encodeURIComponent(file.filename)}`);
    const size = imageSize(file.bytes);
    const attachment: FakeAttachment = { id, filename: file.filename, size: file.bytes.length, url, proxy_url: url, content_type: contentType, ...(size ?? {}) };
    if (typeof extra.description === 'string') attachment.description = extra.description;
    if (typeof extra.title === 'string') attachment.title = extra.title;
    return attachment;
  }

  private cdnNow(): number {
    return Date.now() + this.cdnClockOffsetMs;
  }

  private linkSignature(path: string, ex: string, is: string): string {
    return createHmac('sha256', this.cdnSecret).update(`${path}\n${ex}\n${is}`).digest('hex');
  }

  /** A CDN link to `path` as Discord signs them: `ex` (expiry) and `is` (issued) in hex Unix seconds, `hm` the signature. */
  private signedLink(path: string): string {
    const issued = Math.floor(this.cdnNow() / 1000);
    const ex = (issued + Math.floor(this.linkLifetimeMs / 1000)).toString(16);
    const is = issued.toString(16);
    return `${this.origin}${path}?ex=${ex}&is=${is}&hm=${this.linkSignature(path, ex, is)}`;
  }

  private linkWorks(url: URL): boolean {
    const ex = url.searchParams.get('ex') ?? '';
    const is = url.searchParams.get('is') ?? '';
    const hm = Buffer.from(url.searchParams.get('hm') ?? '', 'hex');
    const expected = Buffer.from(this.linkSignature(url.pathname, ex, is), 'hex');
    if (hm.length !== expected.length || !timingSafeEqual(hm, expected)) return false;
    return Number.parseInt(ex, 16) * 1000 > this.cdnNow();
  }

  /**
   * `POST /attachments/refresh-urls {attachment_urls}` → `{refreshed_urls: [{original, refreshed}]}`: a fresh
   * link for each of this CDN's attachment links (expired ones included); others come back unchanged.
   */
  private refreshAttachmentUrls(ctx: RequestContext): HandlerResult {
    this.reject(ctx, schemaIssues(schemas.attachmentsRefresh, ctx.body));
    const { attachment_urls: urls } = ctx.body as { attachment_urls: string[] };
    const refreshed_urls = urls.map((original) => {
      let url: URL;
      try {
        url = new URL(original);
      } catch {
        return { original, refreshed: original };
      }
      const id = url.pathname.split('/')[3] ?? '';
      const ours = url.origin === this.origin && url.pathname.startsWith('/attachments/') && this.blobs.has(id);
      return { original, refreshed: ours ? this.signedLink(url.pathname) : original };
    });
    return { status: 200, body: { refreshed_urls } };
  }

  /** Attachments after a create/edit: kept ones listed in `attachments`, new uploads, per Discord's v10 rules. */
  private resolveAttachments(channelId: string, payload: Record<string, unknown>, files: RecordedFile[], existing: FakeAttachment[], ephemeral: boolean): FakeAttachment[] {
    const listed = Array.isArray(payload.attachments) ? (payload.attachments as Array<Record<string, unknown>>) : undefined;
    const byIndex = new Map(files.map((f) => [fileIndexOf(f.field) ?? f.field, f]));
    const used = new Set<RecordedFile>();
    const upload = (file: RecordedFile, meta: Record<string, unknown> = {}): FakeAttachment => {
      used.add(file);
      const filename = typeof meta.filename === 'string' && meta.filename ? meta.filename : file.filename;
      const att = this.storeAttachment(channelId, { filename, bytes: file.bytes, contentType: file.contentType }, meta);
      return ephemeral ? { ...att, ephemeral: true } : att;
    };
    let result: FakeAttachment[];
    if (listed) {
      result = [];
      for (const entry of listed) {
        const id = String(entry.id);
        const kept = existing.find((a) => a.id === id);
        const file = byIndex.get(id);
        if (kept) result.push(typeof entry.description === 'string' ? { ...kept, description: entry.description } : kept);
        else if (file) result.push(upload(file, entry));
      }
    } else {
      result = [...existing];
    }
    // Files not referenced by `attachments` are appended, as Discord does.
    for (const file of files) if (!used.has(file)) result.push(upload(file));
    return result;
  }

  private createMessage(input: {
    channelId: string;
    payload: Record<string, unknown>;
    files: RecordedFile[];
    interaction?: InteractionState;
    loading?: boolean;
    followUp?: boolean;
  }): FakeMessage {
    const { payload, interaction } = input;
    const channel = this.channelById(input.channelId);
    const flags = (Number(payload.flags ?? 0) & (FLAG_EPHEMERAL | EDITABLE_FLAGS)) | (input.loading ? FLAG_LOADING : 0);
    const ephemeral = (flags & FLAG_EPHEMERAL) !== 0;
    const message: FakeMessage = {
      id: snowflake(),
      type: interaction ? (interaction.type === INTERACTION_COMMAND ? 20 : 0) : payload.message_reference ? 19 : 0,
      channel_id: input.channelId,
      ...(channel ? { guild_id: channel.guildId } : {}),
      content: typeof payload.content === 'string' ? payload.content : '',
      components: withComponentIds(payload.components),
      embeds: [],
      attachments: this.resolveAttachments(input.channelId, payload, input.files, [], ephemeral),
      author: this.botUser,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      flags,
      tts: payload.tts === true,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      mention_channels: [],
      pinned: false,
      reactions: [],
      sticker_items: [],
      position: 0,
      ...(isRecord(payload.poll) ? { poll: payload.poll } : {}),
      ...(isRecord(payload.message_reference) ? { message_reference: { type: 0, channel_id: input.channelId, ...payload.message_reference } } : {}),
    };
    message.embeds = normalizeEmbeds(payload.embeds, message.attachments);
    if (interaction) {
      message.webhook_id = this.applicationId;
      message.application_id = this.applicationId;
      message.interaction_metadata = {
        id: interaction.id,
        type: interaction.type,
        user: interaction.user,
        authorizing_integration_owners: { '0': interaction.guildId },
        ...(interaction.commandName ? { name: interaction.commandName, command_type: 1 } : {}),
        ...(input.followUp && interaction.originalMessageId ? { original_response_message_id: interaction.originalMessageId } : {}),
        ...(interaction.sourceMessageId ? { interacted_message_id: interaction.sourceMessageId } : {}),
      };
      if (interaction.commandName) message.interaction = { id: interaction.id, type: interaction.type, name: interaction.commandName, user: interaction.user };
      interaction.messageIds.push(message.id);
    }
    this.messages.set(message.id, message);
    this.recordMessageEvent('create', message, interaction);
    return message;
  }

  private editMessage(ctx: RequestContext, message: FakeMessage, payload: Record<string, unknown>, files: RecordedFile[], via: InteractionState | undefined): FakeMessage {
    const next: FakeMessage = structuredClone(message);
    const wasLoading = (message.flags & FLAG_LOADING) !== 0;
    if ('content' in payload) next.content = typeof payload.content === 'string' ? payload.content : '';
    if ('components' in payload) next.components = withComponentIds(payload.components);
    if (typeof payload.flags === 'number') next.flags = (message.flags & FLAG_EPHEMERAL) | (payload.flags & EDITABLE_FLAGS);
    next.flags &= ~FLAG_LOADING;
    if ('attachments' in payload || files.length > 0) {
      next.attachments = this.resolveAttachments(message.channel_id, payload, files, message.attachments, (message.flags & FLAG_EPHEMERAL) !== 0);
    }
    if ('embeds' in payload) next.embeds = normalizeEmbeds(payload.embeds, next.attachments);
    // Editing a deferred ("thinking...") reply is its first real content, not an edit.
    next.edited_timestamp = wasLoading ? null : new Date().toISOString();
    if (isEmptyMessage(next, 0)) {
      this.reject(ctx, [{ path: [], code: 'EMPTY_MESSAGE', message: 'Cannot send an empty message (the edit would leave the message empty)', jsonCode: 50006 }]);
    }
    this.messages.set(next.id, next);
    this.recordMessageEvent('edit', next, via);
    return next;
  }

  private deleteMessage(message: FakeMessage, via: InteractionState | undefined): void {
    this.messages.delete(message.id);
    this.recordMessageEvent('delete', message, via);
    this.notify();
  }

  private recordMessageEvent(kind: MessageEvent['kind'], message: FakeMessage, via: InteractionState | undefined): void {
    this.messageEvents.push({
      seq: ++this.messageSeq,
      at: Date.now(),
      kind,
      messageId: message.id,
      ...(via ? { viaInteraction: via.id } : {}),
      message: this.seen(message),
    });
  }

  /** A detached copy of a message with each attachment's uploaded bytes. */
  private seen(message: FakeMessage): SeenMessage {
    const copy = structuredClone(message);
    return {
      ...copy,
      attachments: copy.attachments.map((a) => ({ ...a, bytes: this.blobs.get(a.id)?.bytes ?? Buffer.alloc(0) })),
    };
  }

  private clickableMessage(ref: string | { id: string }): FakeMessage {
    const id = typeof ref === 'string' ? ref : ref.id;
    const message = this.messages.get(id);
    if (!message) throw new Error(`Message ${id} does not exist (or was deleted); users cannot click it.`);
    return message;
  }

  // -------------------------------------------------------------------------------------------
  // Places

  private guildById(id: string): FakeGuild {
    const guild = this.guilds.get(id);
    if (!guild) throw new Error(`Unknown guild ${id}; add it with addGuild().`);
    return guild;
  }

  private channelById(id: string): FakeChannel | undefined {
    for (const guild of this.guilds.values()) {
      const channel = guild.channels.find((c) => c.id === id);
      if (channel) return channel;
    }
    return undefined;
  }

  private placeFor(guildId: string | undefined, channelId: string | undefined): { guild: FakeGuild; channel: FakeChannel } {
    const guild = this.guildById(guildId ?? (channelId ? (this.channelById(channelId)?.guildId ?? '') : this.guildId));
    const channel = channelId ? guild.channels.find((c) => c.id === channelId) : guild.channels[0];
    if (!channel) throw new Error(`Unknown channel ${channelId ?? '(none)'} in guild ${guild.id}.`);
    return { guild, channel };
  }

  private placeOf(message: FakeMessage): { guild: FakeGuild; channel: FakeChannel } {
    return this.placeFor(message.guild_id, message.channel_id);
  }

  // -------------------------------------------------------------------------------------------
  // Waiting

  private waitUntil<T>(check: () => T | undefined, timeoutMs: number | undefined, describe: () => string): Promise<T> {
    if (this.closed) return Promise.reject(new Error('FakeDiscord is closed'));
    const first = check();
    if (first !== undefined) return Promise.resolve(first);
    const timeout = timeoutMs ?? this.opts.defaultTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        check,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`FakeDiscord: timed out after ${timeout} ms waiting for ${describe()}.\n${this.summary()}`));
        }, timeout),
      };
      this.waiters.add(waiter);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) {
      let value: unknown;
      try {
        value = waiter.check();
      } catch (error) {
        value = undefined;
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      if (value === undefined) continue;
      this.waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(value);
    }
  }

  /** A short description of what happened so far, appended to timeout errors. */
  summary(): string {
    const lines = this.calls.slice(-10).map((c) => `  ${c.method} ${c.path} → ${c.status}${c.injected ? ' (injected)' : ''}`);
    const v = this.violations.slice(-5).map((x) => `  violation: ${x.method} ${x.path}: ${x.issues.join('; ')}`);
    return [`Last REST calls (${this.calls.length} total):`, ...(lines.length ? lines : ['  none']), ...v].join('\n');
  }

  private log(line: string): void {
    this.opts.log?.(`[fake-discord] ${line}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Discord numbers every component of a stored message (the `id` field) depth-first. */
function withComponentIds(components: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(components)) return [];
  const copy = structuredClone(components.filter(isRecord));
  let next = 1;
  walkComponents(copy, (c) => {
    if (typeof c.id !== 'number') c.id = next;
    next = Math.max(next, Number(c.id)) + 1;
  });
  return copy;
}

/** Embeds as Discord stores them: typed `rich`, `attachment://name` media pointing at the upload. */
function normalizeEmbeds(embeds: unknown, attachments: FakeAttachment[]): Array<Record<string, unknown>> {
  if (!Array.isArray(embeds)) return [];
  const media = (value: unknown, urlKey: string): unknown => {
    if (!isRecord(value) || typeof value[urlKey] !== 'string') return value;
    const name = /^attachment:\/\/(.+)$/.exec(value[urlKey])?.[1];
    const att = name === undefined ? undefined : attachments.find((a) => a.filename === name);
    if (!att) return value;
    const size = urlKey === 'url' && att.width !== undefined ? { width: att.width, height: att.height } : {};
    return { ...value, [urlKey]: att.url, [`proxy_${urlKey}`]: att.proxy_url, ...size, ...(att.content_type ? { content_type: att.content_type } : {}) };
  };
  return embeds.filter(isRecord).map((raw) => {
    const e: Record<string, unknown> = { type: 'rich', ...structuredClone(raw) };
    if (e.image) e.image = media(e.image, 'url');
    if (e.thumbnail) e.thumbnail = media(e.thumbnail, 'url');
    if (e.author) e.author = media(e.author, 'icon_url');
    if (e.footer) e.footer = media(e.footer, 'icon_url');
    return e;
  });
}

function describeButtons(message: FakeMessage): string {
  const ids: string[] = [];
  walkComponents(message.components, (c) => {
    if (c.type === 2) ids.push(`${String(c.custom_id ?? c.url)}${c.disabled ? ' (disabled)' : ''}`);
  });
  return ids.join(', ') || 'none';
}
