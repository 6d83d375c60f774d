// One bot per delivery mode for the relay end-to-end files: `polled` (no PUBLIC_URL; the tracker polls
// every 100 ms) or `pushed` (PUBLIC_URL on a free port and a 60 s poll interval, so only the relay's callback
// can finish a job). Each mode gets its own fake Discord and database.
import { freePort, startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { isFinal } from './support.ts';

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

export const ALICE = '100000000000000001';
export const BOB = '100000000000000002';

export async function startRelaySession(opts: { provider: string; baseUrl: string; apiKey: string; mode: Mode }): Promise<RelaySession> {
  const discord = await FakeDiscord.start();
  let db: TestDatabase | undefined;
  try {
    db = await createTestDatabase();
    const port = opts.mode === 'pushed' ? await freePort() : undefined;
    const publicUrl = port ? `http://127.0.0.1:${port}` : undefined;
    const bot = await startBot({
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_GUILD_ID: discord.guildId,
      UPSTREAM_PROVIDER: opts.provider,
      UPSTREAM_BASE_URL: opts.baseUrl,
      UPSTREAM_API_KEY: opts.apiKey,
      POLL_INTERVAL_MS: opts.mode === 'pushed' ? '60000' : '100',
      PROGRESS_EDIT_INTERVAL_MS: '1000',
      ...(port && { PUBLIC_URL: publicUrl!, HTTP_PORT: String(port) }),
      ...db.env,
    });
    const database = db;
    return {
      discord,
      bot,
      publicUrl,
      async draw(prompt, userId = ALICE) {
        const interaction = await discord.slashCommand({ name: 'draw', options: { prompt }, userId, locale: 'en-US' });
        return { interaction, final: await interaction.waitForMessage(isFinal, 20_000) };
      },
      async click(message, customId, userId = BOB) {
        const click = await discord.clickButton({ message, customId, userId });
        return click.waitForMessage(isFinal, 20_000);
      },
      async close() {
        await bot.stop();
        await database.destroy();
        await discord.close();
      },
    };
  } catch (err) {
    await db?.destroy();
    await discord.close();
    throw err;
  }
}
