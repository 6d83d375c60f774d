// Every message the job pipeline sends to Discord goes through here. Progress and results edit the
// interaction's original reply (the interaction token, valid 15 minutes); once that token is gone the result
// is posted to the channel with the bot token, mentioning the user.
import type { REST } from '@discordjs/rest';
import { Routes } from 'discord.js';
import type { OutgoingMessage } from './render.ts';

/** Discord error codes that mean "this interaction token can no longer be used". */
const DEAD_TOKEN_CODES = new Set([10015 /* unknown webhook */, 10062 /* unknown interaction */, 50027 /* invalid webhook token */]);

/** Discord's error fields, read structurally: discord.js (CommonJS) and our ESM import load two copies of the class. */
export function discordError(err: unknown): { status: number; code: number } | undefined {
  if (!err || typeof err !== 'object' || !('status' in err) || !('code' in err)) return undefined;
  return { status: Number(err.status), code: Number(err.code) };
}

/** The bot may not post in that channel (permissions changed, or the channel is gone). */
const NO_ACCESS_CODES = new Set([50001 /* missing access */, 50013 /* missing permissions */, 10003 /* unknown channel */]);

export function isDeadTokenError(err: unknown): boolean {
  const e = discordError(err);
  return Boolean(e && (DEAD_TOKEN_CODES.has(e.code) || e.status === 401));
}

export interface Delivered {
  messageId: string;
  via: 'interaction' | 'channel' | 'dm';
}

export interface DeliveryTarget {
  token: string | null;
  tokenExpiresAt: Date | null;
  channelId: string;
  userId: string;
  /** Put above the message when it has to go to the user's DMs because the channel refused it. */
  noAccessNote: string;
}

/** Every file of a message: the single `file`, then any `files` (a batch of clips). */
const allFiles = (msg: OutgoingMessage) => [...(msg.file ? [msg.file] : []), ...(msg.files ?? [])];

function body(msg: OutgoingMessage) {
  return {
    content: msg.content,
    components: msg.components,
    // Listing attachments replaces the old ones: a new preview or the result replaces the previous image.
    attachments: allFiles(msg).map((f, i) => ({ id: String(i), filename: f.name })),
    allowed_mentions: { parse: [] as never[] },
  };
}

function files(msg: OutgoingMessage) {
  const all = allFiles(msg);
  return all.length > 0 ? all.map((f) => ({ name: f.name, data: f.data, contentType: f.contentType })) : undefined;
}

export class Messenger {
  constructor(
    /** The bot token's client: channel posts and DMs, under Discord's global rate limit. */
    private readonly rest: REST,
    /**
     * For interaction-token webhooks, which Discord does not count against the global limit: a client without
     * discord.js's global cap, so results and failures never wait behind thousands of other requests.
     */
    private readonly webhookRest: REST,
    private readonly applicationId: () => string,
  ) {}

  /** Edits the interaction's original reply. Throws when the token is dead (see isDeadTokenError). */
  async editOriginal(token: string, msg: OutgoingMessage): Promise<Delivered> {
    const res = (await this.webhookRest.patch(Routes.webhookMessage(this.applicationId(), token, '@original'), {
      body: body(msg),
      files: files(msg),
      auth: false,
    })) as { id: string };
    return { messageId: res.id, via: 'interaction' };
  }

  /** A new channel message with the bot token, pinging the user: for results that outlive the interaction. */
  async postToChannel(channelId: string, userId: string, msg: OutgoingMessage): Promise<Delivered> {
    const res = (await this.rest.post(Routes.channelMessages(channelId), {
      body: { ...body(msg), allowed_mentions: { users: [userId] } },
      files: files(msg),
    })) as { id: string };
    return { messageId: res.id, via: 'channel' };
  }

  /** A direct message to the user (their DM channel is opened first; Discord returns the same one each time). */
  async postToUser(userId: string, msg: OutgoingMessage): Promise<Delivered> {
    const dm = (await this.rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as { id: string };
    const res = (await this.rest.post(Routes.channelMessages(dm.id), { body: body(msg), files: files(msg) })) as { id: string };
    return { messageId: res.id, via: 'dm' };
  }

  /**
   * A message already showing a file whose name contains `marker` — where the job's final message would be: the
   * interaction's reply while its token lives, else the channel's latest 50 messages. For an attempt whose outcome
   * was never recorded (its process died after sending): look before sending again. Throws when the reply cannot
   * be read (try again later rather than risk a second upload); an unreadable channel counts as "not there".
   */
  async findUpload(target: DeliveryTarget, marker: string): Promise<Delivered | undefined> {
    type Seen = { id: string; attachments?: Array<{ filename: string }> };
    const shows = (m: Seen) => m.attachments?.some((a) => a.filename.includes(marker)) ?? false;
    const alive = target.token && target.tokenExpiresAt && target.tokenExpiresAt.getTime() > Date.now();
    if (alive) {
      try {
        const original = (await this.webhookRest.get(Routes.webhookMessage(this.applicationId(), target.token!, '@original'), { auth: false })) as Seen;
        if (shows(original)) return { messageId: original.id, via: 'interaction' };
        return undefined;
      } catch (err) {
        if (!isDeadTokenError(err)) throw err;
      }
    }
    try {
      const recent = (await this.rest.get(Routes.channelMessages(target.channelId), { query: new URLSearchParams({ limit: '50' }) })) as Seen[];
      const found = recent.find(shows);
      return found && { messageId: found.id, via: 'channel' };
    } catch {
      return undefined;
    }
  }

  /**
   * The final word on a job: edit the reply while the token lives, otherwise (or if Discord says it is dead)
   * post to the channel; if the bot may not post there, send it to the user directly, saying why.
   */
  async deliver(target: DeliveryTarget, msg: OutgoingMessage): Promise<Delivered> {
    const alive = target.token && target.tokenExpiresAt && target.tokenExpiresAt.getTime() > Date.now();
    if (alive) {
      try {
        return await this.editOriginal(target.token!, msg);
      } catch (err) {
        if (!isDeadTokenError(err)) throw err;
      }
    }
    try {
      return await this.postToChannel(target.channelId, target.userId, msg);
    } catch (err) {
      const e = discordError(err);
      if (!e || !NO_ACCESS_CODES.has(e.code)) throw err;
      return this.postToUser(target.userId, { ...msg, content: `${target.noAccessNote}\n${msg.content}` });
    }
  }
}
