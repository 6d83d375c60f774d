import { draw } from './draw.ts';
import type { Command } from './types.ts';

/** Every slash command the bot registers, by its canonical (en-US) name. */
export const commands: ReadonlyMap<string, Command> = new Map([draw].map((c) => [c.data.name, c]));
