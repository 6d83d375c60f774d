export type { Command } from '../src/discord/command.ts';
