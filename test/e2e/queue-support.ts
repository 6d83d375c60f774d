// What the queue end-to-end files share: a bot on relay accounts (UPSTREAM_ACCOUNTS) with global commands (so
// any guild of the fake can use them), and readers that count, per prompt, what the relay accepted and what
// the users were shown — the evidence for "submitted once, delivered once".
import { afterEach } from 'vitest';
import type { BotProcess } from '../support/bot.ts';
import type { TestDatabase } from '../support/database.ts';
import type { FakeDiscord, SeenMessage } from '../support/fake-discord.ts';
import type { FakeTtApi } from '../support/fake-ttapi.ts';

export { ALICE, BOB } from './support.ts';
export const CAROL = '100000000000000003';
export const DAVE = '100000000000000004';
export const ERIN = '100000000000000005';

export interface AccountSpec {
  id?: string;
  relay: FakeTtApi;
  /** The key sent (the relay's own unless set: a wrong one gets 401). */
  apiKey?: string;
  concurrency: number;
}

/** UPSTREAM_ACCOUNTS for TTApi fakes. */
export function accountsJson(accounts: AccountSpec[]): string {
  return JSON.stringify(
    accounts.map((a) => ({ ...(a.id && { id: a.id }), provider: 'ttapi', baseUrl: a.relay.url, apiKey: a.apiKey ?? a.relay.apiKey, concurrency: a.concurrency })),
  );
}

/**
 * A bot on these accounts, polling every 100 ms, registering its commands globally (every guild of the fake
 * has them), with limits high enough not to get in the way unless `extra` says otherwise.
 */
export function queueEnv(discord: FakeDiscord, db: TestDatabase, accounts: AccountSpec[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.apiUrl,
    UPSTREAM_ACCOUNTS: accountsJson(accounts),
    POLL_INTERVAL_MS: '100',
    PROGRESS_EDIT_INTERVAL_MS: '1000',
    USER_MAX_CONCURRENT: '20',
    USER_MAX_QUEUED: '20',
    CLEANUP_CRON: 'off',
    ...db.env,
    ...extra,
  };
}

/** The prompts the relay accepted, in order (each accepted submission is one job there). */
export function acceptedPrompts(relay: FakeTtApi): string[] {
  return relay.submissions.map((s) => s.prompt);
}

/** How many times the relay accepted a job for `prompt`. */
export function timesSubmitted(relays: FakeTtApi[], prompt: string): number {
  return relays.reduce((n, r) => n + r.submissions.filter((s) => s.prompt === prompt).length, 0);
}

export interface Upload {
  messageId: string;
  attachmentId: string;
  /** Edited into the interaction's reply, or posted to a channel (or DM) with the bot token. */
  via: 'interaction' | 'channel';
  message: SeenMessage;
}

const isResultFile = (name: string) => /^(grid|image)_/.test(name);

/**
 * Every upload of a result image for `prompt`, wherever it went: a result delivered twice shows up twice (each
 * upload is a new attachment), whether by a second edit of the reply or by another message.
 */
export function resultUploads(discord: FakeDiscord, prompt: string): Upload[] {
  const seen = new Set<string>();
  const uploads: Upload[] = [];
  for (const event of discord.messageEvents) {
    if (event.kind === 'delete' || !event.message.content.includes(`**${prompt}**`)) continue;
    for (const a of event.message.attachments) {
      if (!isResultFile(a.filename) || seen.has(a.id)) continue;
      seen.add(a.id);
      uploads.push({ messageId: event.messageId, attachmentId: a.id, via: event.message.interaction_metadata ? 'interaction' : 'channel', message: event.message });
    }
  }
  return uploads;
}

/** A message showing the finished result of `prompt` (uploaded image), or a failure of it. */
export const resultOf = (prompt: string) => (m: SeenMessage) => m.content.includes(`**${prompt}**`) && m.attachments.some((a) => isResultFile(a.filename));
export const failureOf = (prompt: string) => (m: SeenMessage) => m.content.startsWith('❌') && m.content.includes(prompt);

/** Resolves once every prompt has a result uploaded somewhere (reply, channel or DM); throws on the first failure shown. */
export async function waitForResults(discord: FakeDiscord, prompts: string[], timeoutMs: number): Promise<void> {
  await Promise.all(
    prompts.map((p) =>
      discord.waitForMessage((m) => resultOf(p)(m) || failureOf(p)(m), timeoutMs).then((m) => {
        if (!resultOf(p)(m)) throw new Error(`job "${p}" failed: ${m.content}`);
      }),
    ),
  );
}

/** On a failed test, prints the bots' last log lines: what the bot did is most of the diagnosis. */
export function printLogsOnFailure(bots: () => Array<BotProcess | undefined>, lines = 40): void {
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const [i, bot] of bots().entries()) {
      if (!bot) continue;
      const tail = bot.logs.slice(-lines).map((l) => JSON.stringify(l)).join('\n');
      console.error(`--- bot ${i} (last ${lines} log lines) ---\n${tail}\n${bot.stderr.join('').slice(-2000)}`);
    }
  });
}
