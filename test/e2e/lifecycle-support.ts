// What the lifecycle end-to-end files (issue 16) share: counting the final messages a user was shown for one
// job — result uploads and ❌ failures, wherever they went — so "exactly one final message" is one number.
import type { FakeDiscord, FakeInteraction, SeenMessage } from '../support/fake-discord.ts';
import { resultUploads, type Upload } from './queue-support.ts';

const isResultFile = (name: string) => /^(grid|image)_/.test(name);
const isFailure = (m: SeenMessage) => m.content.startsWith('❌');

/** Every message showing a ❌ failure of `prompt`, once per message (an edit repeating it is not a new one). */
export function failureMessages(discord: FakeDiscord, prompt: string): SeenMessage[] {
  const seen = new Map<string, SeenMessage>();
  for (const e of discord.messageEvents) {
    if (e.kind !== 'delete' && isFailure(e.message) && e.message.content.includes(`**${prompt}**`) && !seen.has(e.messageId)) seen.set(e.messageId, e.message);
  }
  return [...seen.values()];
}

/** Result uploads and failures of `prompt`: a job that ended well shows `{ uploads: 1, failures: 0 }`. */
export function finalsFor(discord: FakeDiscord, prompt: string): { uploads: Upload[]; failures: SeenMessage[] } {
  return { uploads: resultUploads(discord, prompt), failures: failureMessages(discord, prompt) };
}

/**
 * The final messages shown through one interaction's token (its reply and follow-ups): result uploads (each new
 * attachment once) and ❌ messages (each message once). Used where several jobs share a prompt (a U1 click).
 */
export function finalsOfInteraction(discord: FakeDiscord, interaction: FakeInteraction): { uploads: string[]; failures: string[] } {
  const uploads = new Set<string>();
  const failures = new Set<string>();
  for (const e of discord.messageEvents) {
    if (e.kind === 'delete' || e.viaInteraction !== interaction.id) continue;
    for (const a of e.message.attachments) if (isResultFile(a.filename)) uploads.add(a.id);
    if (isFailure(e.message)) failures.add(e.messageId);
  }
  return { uploads: [...uploads], failures: [...failures] };
}

/** The interaction was deferred (type 5 accepted by Discord): the bot took the job on. */
export const accepted = (interaction: FakeInteraction) => interaction.callbacks[0]?.type === 5;

/** When the first result upload of `prompt` was shown (message event time), or undefined. */
export function deliveredAt(discord: FakeDiscord, prompt: string): number | undefined {
  const upload = resultUploads(discord, prompt)[0];
  if (!upload) return undefined;
  return discord.messageEvents.find((e) => e.message.attachments.some((a) => a.id === upload.attachmentId))?.at;
}

/** Resolves once `check` holds (polled every 100 ms), else rejects with `what` after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RelayAccount {
  id: string;
  provider: 'midjourney-proxy' | 'ttapi' | 'imagineapi';
  baseUrl: string;
  apiKey: string;
  concurrency: number;
}

/**
 * A bot on these relay accounts (UPSTREAM_ACCOUNTS, so each has the concurrency the test needs), commands
 * registered globally (every guild of the fake has them), polling every 200 ms, limits out of the way.
 */
export function accountsEnv(discord: FakeDiscord, db: { env: Record<string, string> }, accounts: RelayAccount[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.apiUrl,
    UPSTREAM_ACCOUNTS: JSON.stringify(accounts),
    POLL_INTERVAL_MS: '200',
    PROGRESS_EDIT_INTERVAL_MS: '1000',
    USER_MAX_CONCURRENT: '5',
    USER_MAX_QUEUED: '20',
    CLEANUP_CRON: 'off',
    ...db.env,
    ...extra,
  };
}
