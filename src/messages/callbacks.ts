// The first answer to an interaction ("thinking…"), sent on a lean path. Every job-starting interaction is
// deferred, so at 200 /draw per second this request is the bot's commonest; discord.js would send it through
// @discordjs/rest's queues (a bucket per interaction, timers, a response stream), which costs about as much CPU as
// the HTTP request itself. Interaction callbacks are outside the global rate limit and each has a route of its
// own, so none of that machinery applies: one keep-alive pool, the same retries (429 after Retry-After, 5xx and
// network errors a few times), and errors shaped as discord.js's (status, code), so callers handle both alike.
import { Pool } from 'undici';
import type { MessageFlags } from 'discord.js';

/** What the callback needs of a discord.js interaction, and the fields discord.js reads to know it was deferred. */
export interface Deferrable {
  id: string;
  token: string;
  deferred: boolean;
  replied: boolean;
  ephemeral: boolean | null;
}

/** An error Discord answered, shaped as discord.js's DiscordAPIError where callers read it. */
export class InteractionCallbackError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly method: string,
    readonly url: string,
  ) {
    super(message);
    this.name = 'DiscordAPIError';
  }
}

const TYPE_DEFERRED_MESSAGE = 5;
/** "Interaction has already been acknowledged." */
const ALREADY_ACKNOWLEDGED = 40060;
const EPHEMERAL = 64 satisfies MessageFlags.Ephemeral;

export interface CallbackOptions {
  /** Tries after the first for 5xx and network errors (as @discordjs/rest's default). */
  retries?: number;
  /** Per request (as @discordjs/rest's default). */
  timeoutMs?: number;
}

export class InteractionCallbacks {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(
    /** DISCORD_API_URL (e.g. https://discord.com/api). */
    api: string,
    private readonly opts: CallbackOptions = {},
  ) {
    const url = new URL(api);
    this.pool = new Pool(url.origin, { connections: 32, keepAliveTimeout: 30_000 });
    this.path = `${url.pathname.replace(/\/$/, '')}/v10/interactions`;
  }

  /** Defers the reply (publicly, or privately with `ephemeral`); throws as discord.js would (e.g. 10062 when too late). */
  async defer(interaction: Deferrable, opts: { ephemeral?: boolean } = {}): Promise<void> {
    if (interaction.deferred || interaction.replied) throw new Error('The reply to this interaction has already been sent or deferred.');
    await this.post(`${this.path}/${interaction.id}/${interaction.token}/callback`, { type: TYPE_DEFERRED_MESSAGE, data: { flags: opts.ephemeral ? EPHEMERAL : 0 } });
    // What discord.js's own deferReply records: its editReply, followUp and deleteReply check these.
    interaction.deferred = true;
    interaction.ephemeral = Boolean(opts.ephemeral);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async post(path: string, body: unknown): Promise<void> {
    const payload = JSON.stringify(body);
    const retries = this.opts.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      let res;
      try {
        res = await this.pool.request({
          path,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'DiscordBot (https://github.com/mj-discord-bot, 0.1.0)' },
          body: payload,
          headersTimeout: this.opts.timeoutMs ?? 15_000,
          bodyTimeout: this.opts.timeoutMs ?? 15_000,
        });
      } catch (err) {
        if (attempt < retries) continue;
        throw err;
      }
      if (res.statusCode < 300) {
        await res.body.dump();
        return;
      }
      const text = await res.body.text();
      let parsed: { code?: number; message?: string; retry_after?: number } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // Not JSON (a proxy's error page): the status says enough.
      }
      if (res.statusCode === 429 && attempt < retries) {
        const header = Number(res.headers['retry-after']);
        const seconds = parsed.retry_after ?? (Number.isFinite(header) ? header : 1);
        await new Promise((r) => setTimeout(r, seconds * 1000));
        continue;
      }
      if (res.statusCode >= 500 && attempt < retries) continue;
      // A try whose answer was lost had reached Discord: the interaction is acknowledged, as wanted.
      if (attempt > 0 && parsed.code === ALREADY_ACKNOWLEDGED) return;
      throw new InteractionCallbackError(res.statusCode, parsed.code ?? 0, parsed.message ?? `HTTP ${res.statusCode}`, 'POST', path);
    }
  }
}
