// One bot per delivery mode for the relay end-to-end files: `polled` (no PUBLIC_URL; the tracker polls
// every 100 ms) or `pushed` (PUBLIC_URL on a free port and a 60 s poll interval, so only the relay's callback
// can finish a job). Each mode gets its own database, and its own fake Discord unless the file shares one.
import { afterAll, beforeAll } from 'vitest';
import { freePort, startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { ALICE, BOB, isFinal, relayEnv, slashDraw } from './support.ts';

export { ALICE, BOB };

export type Mode = 'polled' | 'pushed';

export interface RelaySession {
  discord: FakeDiscord;
  bot: BotProcess;
  publicUrl?: string;
  /** Runs /draw as a fresh user and waits for the final message (result or failure). */
  draw(prompt: string, userId?: string): Promise<{ interaction: Awaited<ReturnType<FakeDiscord['slashCommand']>>; final: SeenMessage }>;
  click(message: SeenMessage, customId: string, userId?: string): Promise<SeenMessage>;
  close(): Promise<void>;
}

export interface RelaySessionOptions {
  provider: string;
  baseUrl: string;
  /** Unset for a relay without authentication. */
  apiKey?: string;
  mode: Mode;
  /** A fake Discord the file shares between its modes (left open by close()); else one of the session's own. */
  discord?: FakeDiscord;
  /** More bot settings. */
  env?: Record<string, string>;
}

export async function startRelaySession(opts: RelaySessionOptions): Promise<RelaySession> {
  const discord = opts.discord ?? (await FakeDiscord.start());
  const closeDiscord = () => (opts.discord ? Promise.resolve() : discord.close());
  let db: TestDatabase | undefined;
  try {
    db = await createTestDatabase();
    const port = opts.mode === 'pushed' ? await freePort() : undefined;
    const publicUrl = port ? `http://127.0.0.1:${port}` : undefined;
    const bot = await startBot(relayEnv(discord, db, opts, {
      POLL_INTERVAL_MS: opts.mode === 'pushed' ? '60000' : '100',
      ...(port && { PUBLIC_URL: publicUrl!, HTTP_PORT: String(port) }),
      ...opts.env,
    }));
    const database = db;
    return {
      discord,
      bot,
      publicUrl,
      async draw(prompt, userId = ALICE) {
        const interaction = await slashDraw(discord, prompt, userId);
        return { interaction, final: await interaction.waitForMessage(isFinal, 20_000) };
      },
      async click(message, customId, userId = BOB) {
        const click = await discord.clickButton({ message, customId, userId });
        return click.waitForMessage(isFinal, 20_000);
      },
      async close() {
        await bot.stop();
        await database.destroy();
        await closeDiscord();
      },
    };
  } catch (err) {
    await db?.destroy();
    await closeDiscord();
    throw err;
  }
}

/**
 * A session for the enclosing describe block: started before its tests (the options are read then) and closed
 * after them. What it returns stands for that session once the block's tests run.
 */
export function useRelaySession(opts: () => RelaySessionOptions): RelaySession {
  let session: RelaySession | undefined;
  beforeAll(async () => {
    session = await startRelaySession(opts());
  });
  afterAll(() => session?.close());
  const current = (): RelaySession => {
    if (!session) throw new Error('the relay session has not started');
    return session;
  };
  return {
    get discord() {
      return current().discord;
    },
    get bot() {
      return current().bot;
    },
    get publicUrl() {
      return current().publicUrl;
    },
    draw: (prompt, userId) => current().draw(prompt, userId),
    click: (message, customId, userId) => current().click(message, customId, userId),
    close: () => current().close(),
  };
}
