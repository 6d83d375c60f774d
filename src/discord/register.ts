// Registers our slash commands by bulk overwrite at start-up: guild-scoped (instant) when DISCORD_GUILD_ID is
// set, global otherwise. Bulk overwrite is idempotent and removes commands we no longer ship.
import type { REST } from '@discordjs/rest';
import { Routes } from 'discord.js';
import type { CommandRegistry } from './command.ts';

export async function registerCommands(rest: REST, commands: CommandRegistry, applicationId: string, guildId?: string): Promise<number> {
  const body = [...commands.values()].map((c) => c.data);
  const route = guildId ? Routes.applicationGuildCommands(applicationId, guildId) : Routes.applicationCommands(applicationId);
  await rest.put(route, { body });
  return body.length;
}
