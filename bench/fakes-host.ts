// The fakes the bot talks to, in a process of their own so their work is not counted as the bot's: the fake
// Discord (test/support/fake-discord.ts), the bench relay (bench/relay.ts) and the fake Baidu
// (test/support/fake-baidu.ts). bench/run.ts forks this file and drives it over the IPC channel: one request
// `{id, cmd, args}` at a time, one answer `{id, ok, result | error}` each. The host dispatches the users'
// /draws itself, on its own clock, and reads back when each answer arrived.
import type { IncomingMessage } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { safeDecode } from '../test/support/discord-http.ts';
import { FakeBaidu } from '../test/support/fake-baidu.ts';
import { FakeDiscord, guildIdOnShard, shardOf, type RecordedCall } from '../test/support/fake-discord.ts';
import { BenchRelay, type BenchRelayOptions } from './relay.ts';

export interface StartArgs {
  relay?: BenchRelayOptions;
  baidu?: { qps: number };
  /** Shards of the bot: one server on each, the /draws of a burst dealt to them in turn, commands global. */
  shards?: number;
}

export interface StartResult {
  discordEnv: Record<string, string>;
  channelId: string;
  relay?: { url: string; apiKey: string; imageBytes: number; imageUrl: string };
  baiduEnv?: Record<string, string>;
}

export interface BurstArgs {
  count: number;
  perSecond: number;
  /** `{i}` is replaced by the job's number (zero-padded): every prompt is distinct. */
  prompt: string;
  locale?: string;
  /** Distinct users (one per /draw) unless set: the number of users the /draws cycle through. */
  users?: number;
  /** Added to every user number: a later burst from a new crowd (default 0). */
  userOffset?: number;
}

export interface BurstResult {
  durationMs: number;
  /** How far behind its schedule the latest /draw went out. */
  maxLagMs: number;
}

/** What happened to one dispatched /draw, in the host's clock (ms since the epoch). */
export interface JobTrace {
  prompt: string;
  sentAt: number;
  /** When the interaction callback (the acknowledgement) had fully arrived. */
  ackAt?: number;
  callbackType?: number;
  /** Arrival of each edit of the original reply that is not the result. */
  edits: number[];
  /** The start of each of those edits' text (what the user saw change). */
  editTexts: string[];
  /** Arrival of the result upload (edit with the grid, or a message in the channel). */
  uploadAt?: number;
  /** How many times the result was uploaded (more than once: a duplicate the user sees as a replaced image). */
  uploads: number;
  uploadTimes: number[];
  /** The relay's view: accepted, completed (hook pushed). */
  relayCreatedAt?: number;
  relayCompletesAt?: number;
  hookSentAt?: number;
  hookAnsweredAt?: number;
  hookStatus?: number;
}

export interface RestSummary {
  total: number;
  byKind: Record<string, number>;
  violations: string[];
  unexpected: number;
}

type Command =
  | { cmd: 'start'; args: StartArgs }
  | { cmd: 'burst'; args: BurstArgs }
  | { cmd: 'traces'; args: Record<string, never> }
  | { cmd: 'rest'; args: Record<string, never> }
  | { cmd: 'channelUploads'; args: Record<string, never> }
  | { cmd: 'relay'; args: Record<string, never> }
  | { cmd: 'baidu'; args: Record<string, never> }
  | { cmd: 'health'; args: Record<string, never> }
  | { cmd: 'mark'; args: Record<string, never> }
  | { cmd: 'stop'; args: Record<string, never> };

let discord: FakeDiscord | undefined;
/** The servers /draws go to (one per shard). */
let guilds: string[] = [];
let relay: BenchRelay | undefined;
let baidu: FakeBaidu | undefined;

interface Dispatched {
  prompt: string;
  sentAt: number;
  interactionId: string;
  token: string;
}
let dispatched: Dispatched[] = [];

/** When each request to the fake Discord's API had fully arrived, by "METHOD /path below /api/v10", oldest first. */
let arrivals = new Map<string, number[]>();
const API = '/api/v10';
const keyOf = (method: string, path: string) => `${method} ${path}`;

/** Calls already folded into the per-token view below (an index into discord.calls). */
let cursor = 0;
const callbacksById = new Map<string, { at: number; type: number }>();
const editsByToken = new Map<string, number[]>();
const editTextsByToken = new Map<string, string[]>();
const uploadsByToken = new Map<string, number>();
const uploadTimesByToken = new Map<string, number[]>();
/** Results posted to a channel (the token was dead): their arrival, by the prompt in the headline. */
const channelUploads: Array<{ at: number; content: string }> = [];
const kinds = new Map<string, number>();

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let cpuMark = process.cpuUsage();

const isResultFile = (name: string) => /^(grid|image)_/.test(name);

/** The call's arrival time: when its body had fully arrived (before the fake parsed and validated it). */
function arrivalOf(call: RecordedCall): number {
  const list = arrivals.get(keyOf(call.method, call.path));
  return list?.shift() ?? call.at;
}

/** Folds new calls into the per-token view. */
function ingest(): void {
  if (!discord) return;
  const calls = discord.calls;
  for (; cursor < calls.length; cursor++) {
    const call = calls[cursor]!;
    const at = arrivalOf(call);
    const hasResult = call.files.some((f) => isResultFile(f.filename));
    let kind = `${call.method} ${call.route ?? call.path}`;
    if (call.route === '/interactions/:interactionId/:token/callback') {
      const type = Number((call.body as { type?: number } | undefined)?.type);
      callbacksById.set(call.params.interactionId!, { at, type });
      kind = `callback (type ${type})`;
    } else if (call.method === 'PATCH' && call.route === '/webhooks/:applicationId/:token/messages/@original') {
      const token = call.params.token!;
      if (hasResult) {
        if (!uploadsByToken.has(token)) uploadsByToken.set(token, at);
        uploadTimesByToken.set(token, [...(uploadTimesByToken.get(token) ?? []), at]);
        kind = 'edit: result upload';
      } else {
        editsByToken.set(token, [...(editsByToken.get(token) ?? []), at]);
        const text = String((call.body as { content?: string } | undefined)?.content ?? '');
        editTextsByToken.set(token, [...(editTextsByToken.get(token) ?? []), text.replace(/\*\*.*?\*\*/, '').trim().slice(0, 60)]);
        kind = 'edit: progress / place in queue';
      }
    } else if (call.method === 'POST' && call.route === '/channels/:channelId/messages') {
      const content = String((call.body as { content?: string } | undefined)?.content ?? '');
      if (hasResult) channelUploads.push({ at, content });
      kind = hasResult ? 'channel post: result' : 'channel post';
    } else if (call.method === 'POST' && call.route === '/webhooks/:applicationId/:token') {
      kind = 'follow-up';
    }
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
}

function reset(): void {
  discord?.clearRecords();
  dispatched = [];
  arrivals = new Map();
  cursor = 0;
  callbacksById.clear();
  editsByToken.clear();
  editTextsByToken.clear();
  uploadsByToken.clear();
  uploadTimesByToken.clear();
  channelUploads.length = 0;
  kinds.clear();
  loopDelay.reset();
  cpuMark = process.cpuUsage();
}

async function start(args: StartArgs): Promise<StartResult> {
  // Interactions not answered within 3 s are refused and recorded as violations, as Discord does.
  discord = await FakeDiscord.start({ defaultTimeoutMs: 600_000 });
  // The fake's server is private; listening on it (first) tells when each request's body had fully arrived.
  const server = (discord as unknown as { server: import('node:http').Server }).server;
  server.prependListener('request', (req: IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith(`${API}/`)) return;
    const path = `/${url.pathname.slice(API.length).split('/').filter(Boolean).map(safeDecode).join('/')}`;
    const key = keyOf((req.method ?? 'GET').toUpperCase(), path);
    req.once('end', () => arrivals.set(key, [...(arrivals.get(key) ?? []), Date.now()]));
  });
  if (args.relay) relay = await BenchRelay.start(args.relay);
  if (args.baidu) baidu = await FakeBaidu.start({ qps: args.baidu.qps });
  const shards = args.shards ?? 1;
  const fake = discord;
  guilds = Array.from({ length: shards }, (_, s) => (shardOf(fake.guildId, shards) === s ? fake.guildId : fake.addGuild({ id: guildIdOnShard(s, shards) }).guildId));
  return {
    // Several servers: the commands are registered globally.
    discordEnv: { DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, DISCORD_GUILD_ID: shards > 1 ? '' : discord.guildId },
    channelId: discord.channelId,
    ...(relay && { relay: { url: relay.url, apiKey: relay.apiKey, imageBytes: relay.imageBytes, imageUrl: relay.imageUrl } }),
    ...(baidu && { baiduEnv: baidu.env }),
  };
}

async function burst(args: BurstArgs): Promise<BurstResult> {
  const fake = discord!;
  // The command must be registered before the first /draw (the bot registers at start-up).
  await fake.waitForCommand('draw', { ...(guilds.length <= 1 && { guildId: fake.guildId }), timeoutMs: 30_000 });
  const started = Date.now();
  const width = String(args.count).length;
  const gap = 1000 / args.perSecond;
  let maxLagMs = 0;
  const pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < args.count; i++) {
    const due = started + i * gap;
    const wait = due - Date.now();
    if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
    maxLagMs = Math.max(maxLagMs, Date.now() - due);
    const n = String(i + 1).padStart(width, '0');
    const prompt = args.prompt.replaceAll('{i}', n);
    const user = (args.userOffset ?? 0) + (args.users ? i % args.users : i);
    const userId = String(200_000_000_000_000_000n + BigInt(user));
    const sentAt = Date.now();
    pending.push(
      fake.slashCommand({ name: 'draw', options: { prompt }, userId, locale: args.locale ?? 'en-US', guildId: guilds[i % guilds.length] }).then((interaction) => {
        dispatched.push({ prompt, sentAt, interactionId: interaction.id, token: interaction.token });
      }),
    );
  }
  await Promise.all(pending);
  return { durationMs: Date.now() - started, maxLagMs };
}

function traces(): JobTrace[] {
  ingest();
  const jobsByPrompt = new Map(relay?.order.map((j) => [j.prompt, j]) ?? []);
  const posted = new Map<string, number>();
  for (const u of channelUploads) {
    const prompt = /\*\*(.+?)\*\*/.exec(u.content)?.[1];
    if (prompt && !posted.has(prompt)) posted.set(prompt, u.at);
  }
  return dispatched.map((d) => {
    const callback = callbacksById.get(d.interactionId);
    const job = jobsByPrompt.get(d.prompt);
    return {
      prompt: d.prompt,
      sentAt: d.sentAt,
      ackAt: callback?.at,
      callbackType: callback?.type,
      edits: editsByToken.get(d.token) ?? [],
      editTexts: editTextsByToken.get(d.token) ?? [],
      uploadAt: uploadsByToken.get(d.token) ?? posted.get(d.prompt),
      uploadTimes: uploadTimesByToken.get(d.token) ?? [],
      uploads: (uploadTimesByToken.get(d.token)?.length ?? 0) + channelUploads.filter((u) => u.content.includes(`**${d.prompt}**`)).length,
      relayCreatedAt: job?.createdAt,
      relayCompletesAt: job?.completesAt,
      hookSentAt: job?.hookSentAt,
      hookAnsweredAt: job?.hookAnsweredAt,
      hookStatus: job?.hookStatus,
    };
  });
}

function rest(): RestSummary {
  ingest();
  const fake = discord!;
  return {
    total: fake.calls.length,
    byKind: Object.fromEntries([...kinds].sort((a, b) => b[1] - a[1])),
    violations: fake.violations.slice(0, 20).map((v) => `${v.method} ${v.path} → ${v.status}: ${v.issues.join('; ').slice(0, 300)}`),
    unexpected: fake.unexpectedCalls.length,
  };
}

async function handle(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'start':
      return start(command.args);
    case 'burst':
      return burst(command.args);
    case 'traces':
      return traces();
    case 'rest':
      return rest();
    case 'channelUploads':
      ingest();
      return channelUploads.map((u) => u.at);
    case 'relay':
      return relay && { maxInFlight: relay.maxInFlight, fetches: relay.fetches, jobs: relay.order.length };
    case 'baidu':
      return baidu && { requests: baidu.requests.map((r) => ({ at: r.at, lines: r.lines.length, answer: 'error' in r.answer ? r.answer.error : 'ok' })), violations: baidu.violations };
    case 'health': {
      const cpu = process.cpuUsage(cpuMark);
      return { loopDelayP99Ms: loopDelay.percentile(99) / 1e6, loopDelayMaxMs: loopDelay.max / 1e6, cpuMs: (cpu.user + cpu.system) / 1000 };
    }
    case 'mark':
      reset();
      return null;
    case 'stop':
      await discord?.close();
      await relay?.close();
      await baidu?.close();
      return null;
  }
}

process.on('message', (message: { id: number } & Command) => {
  handle(message).then(
    (result) => process.send!({ id: message.id, ok: true, result }),
    (err: unknown) => process.send!({ id: message.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ id: 0, ok: true, result: 'ready' });
