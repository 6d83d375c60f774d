// How a user's /settings apply to a new job: the aspect ratio joins prompts that set none, and the speed mode
// is passed on while some relay account serves it.
import type { SpeedMode } from '../db/schema.ts';
import { parsePrompt } from '../prompt/parse.ts';
import type { Accounts } from '../upstream/accounts.ts';

export const ASPECT_RATIOS = ['1:1', '2:3', '3:2', '4:5', '5:4', '9:16', '16:9', '21:9'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

/** `prompt` with ` --ar <ratio>` appended, unless it already has `--ar` or `--aspect` (the user's choice wins). */
export function withAspectRatio(prompt: string, ratio: string | null): string {
  if (!ratio) return prompt;
  const hasRatio = parsePrompt(prompt).some((p) => p.kind === 'flag' && (p.name === 'ar' || p.name === 'aspect'));
  return hasRatio ? prompt : `${prompt.trimEnd()} --ar ${ratio}`;
}

/** The user's speed mode, unless no account serves it any more (the job would never be taken): then the default. */
export function usableMode(accounts: Pick<Accounts, 'serves'>, mode: SpeedMode | null): SpeedMode | undefined {
  return mode && accounts.serves(mode) ? mode : undefined;
}
