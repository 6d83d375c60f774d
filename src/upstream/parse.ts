// Small readers for the untyped JSON the relays answer with, and the "fetch each id, a few at a time" loop the
// adapters without a batch read share.
import type { InternalAction } from './actions.ts';

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A non-empty string, else undefined. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** A non-empty string, or a number as a string (relays that send ids and percentages either way). */
export const strOrNumber = (v: unknown): string | undefined => str(v) ?? (typeof v === 'number' ? String(v) : undefined);

/** `value` held to 0–100. */
export const clampPercent = (value: number): number => Math.max(0, Math.min(100, value));

/** A percentage given as a number or a numeric string (null and undefined are unknown), held to 0–100. */
export function percentOf(value: unknown): number | undefined {
  const n = Number(value);
  return value !== null && value !== undefined && Number.isFinite(n) ? clampPercent(n) : undefined;
}

/**
 * Runs `fetchOne` for every id with at most `parallel` calls under way, and returns what they found in the
 * order of `ids` (undefined answers left out). The first error thrown rejects the whole read.
 */
export async function fetchEach<T>(ids: readonly string[], parallel: number, fetchOne: (id: string) => Promise<T | undefined>): Promise<T[]> {
  const found: Array<T | undefined> = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      found[i] = await fetchOne(ids[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, ids.length) }, worker));
  return found.filter((f): f is T => f !== undefined);
}

/**
 * A relay's action name → ours: `quadrant` matches the per-image names (group 1 the verb, `variation` or an
 * upscale spelling; group 2 the quadrant 1–4), `named` the rest.
 */
export function relayAction(name: string, quadrant: RegExp, named: Readonly<Record<string, InternalAction>>): InternalAction | undefined {
  const m = quadrant.exec(name);
  if (m) return `${m[1] === 'variation' ? 'variation' : 'upscale'}:${m[2]}` as InternalAction;
  return named[name];
}

/** Our action → the relay's own name for it, for each name in `names` we know (the first one wins). */
export function namesByAction(names: unknown, toInternal: (name: string) => InternalAction | undefined): Partial<Record<InternalAction, string>> {
  const out: Partial<Record<InternalAction, string>> = {};
  for (const name of Array.isArray(names) ? names : []) {
    const action = typeof name === 'string' ? toInternal(name) : undefined;
    if (action && !out[action]) out[action] = name as string;
  }
  return out;
}

/**
 * A speed mode as Midjourney reads it from the prompt (`--relax`), for relays without a mode field. A prompt
 * that already names a mode keeps it: what the user typed wins over their default.
 */
export function withModeParam(prompt: string, mode: string | undefined): string {
  if (!mode || /(^|\s)--(fast|relax|turbo)\b/i.test(prompt)) return prompt;
  return `${prompt} --${mode}`;
}

/**
 * Midjourney's motion parameter at the end of a video prompt, for relays without a motion field (AceData, LegNext).
 * The motion of the button clicked (or /animate's option) wins over a `--motion` the prompt already carries.
 */
export function withMotion(prompt: string, motion: 'low' | 'high'): string {
  return `${prompt.replace(/(^|\s)--motion\s+\S+/gi, '').trim()} --motion ${motion}`.trim();
}

/** The links in a relay's list of media: strings, or `{url}` objects (relays use both); anything else is skipped. */
export function urlsOf(list: unknown): string[] {
  return (Array.isArray(list) ? list : []).map((v) => (isRecord(v) ? str(v.url) : str(v))).filter((u): u is string => u !== undefined);
}
