import { animate } from './animate.ts';
import { blend } from './blend.ts';
import { describe } from './describe.ts';
import { drawAdmin } from './draw-admin.ts';
import { draw } from './draw.ts';
import { info } from './info.ts';
import { settings } from './settings.ts';
import { shorten } from './shorten.ts';
import type { Command } from './types.ts';

/** Every slash command the bot registers, by its canonical (en-US) name. */
export const commands: ReadonlyMap<string, Command> = new Map([draw, blend, describe, shorten, animate, settings, info, drawAdmin].map((c) => [c.data.name, c]));
