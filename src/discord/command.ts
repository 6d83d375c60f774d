// What a slash command is to the router: its definition (registered with Discord), the preconditions the router
// runs before it (src/discord/preconditions.ts), and `execute`. The commands themselves live in commands/ and
// reach src/discord only as a registry handed over by the composition root (src/app.ts).
import type { ChatInputCommandInteraction, RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { AppContext } from '../context.ts';
import type { Granted, Precondition } from './preconditions.ts';

export interface Command {
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  /** Checked in order before `execute`; the first refusal is answered privately and `execute` does not run. */
  preconditions?: readonly Precondition<ChatInputCommandInteraction>[];
  /** `granted.applied`: the limits a job started here is under when it is stored. */
  execute(ctx: AppContext, interaction: ChatInputCommandInteraction, granted: Granted): Promise<void>;
}

/** Every slash command, by its canonical (en-US) name. */
export type CommandRegistry = ReadonlyMap<string, Command>;
