// How a user's /settings apply to a new job: the aspect ratio and the model version join prompts that set none, and the speed mode
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

/** /settings version: Midjourney's current model (8.1, the default since June 2026), the previous one, and Niji 7. */
export const MODEL_VERSIONS = ['8.1', '7', 'niji 7'] as const;
export type ModelVersion = (typeof MODEL_VERSIONS)[number];

/** The parameter a version is written as: `--v 8.1`, `--niji 7`. */
export const versionParam = (version: string) => (version.startsWith('niji') ? `--${version}` : `--v ${version}`);

/** `prompt` with the version's parameter appended, unless it names a version itself (`--v`, `--version`, `--niji`). */
export function withVersion(prompt: string, version: string | null): string {
  if (!version) return prompt;
  const named = parsePrompt(prompt).some((p) => p.kind === 'flag' && (p.name === 'v' || p.name === 'version' || p.name === 'niji'));
  return named ? prompt : `${prompt.trimEnd()} ${versionParam(version)}`;
}

/** The user's speed mode, unless no account serves it any more (the job would never be taken): then the default. */
export function usableMode(accounts: Pick<Accounts, 'serves'>, mode: SpeedMode | null): SpeedMode | undefined {
  return mode && accounts.serves(mode) ? mode : undefined;
}
