// First gate for what a user typed: everything here is answered before anything is stored or sent upstream.
import { checkParams } from './params.ts';
import { parsePrompt } from './parse.ts';

/** Midjourney prompts rarely exceed a few hundred characters; this keeps the result message under Discord's 2,000. */
export const PROMPT_MAX_LENGTH = 1500;

export type PromptCheck = { ok: true; prompt: string } | { ok: false; error: string; vars?: Record<string, unknown> };

// C0/C1 control characters other than tab and newline: they render as nothing and confuse relays.
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

export function checkPrompt(raw: string | null | undefined): PromptCheck {
  // Newlines are legal in a Discord option but a Midjourney prompt is one line.
  const prompt = (raw ?? '').replace(CONTROL_CHARS, '').replace(/\s+/g, ' ').trim();
  if (prompt.length === 0) return { ok: false, error: 'errors.promptEmpty' };
  if (prompt.length > PROMPT_MAX_LENGTH) {
    return { ok: false, error: 'errors.promptTooLong', vars: { max: PROMPT_MAX_LENGTH, length: prompt.length } };
  }
  const params = checkParams(parsePrompt(prompt));
  if (params) return { ok: false, error: params.key, vars: params.vars };
  return { ok: true, prompt };
}

/** `--ar 16:9` (or `--aspect`) as width/height; square when absent or unreadable. */
export function aspectRatio(prompt: string): { w: number; h: number } {
  const m = /(?:^|\s)--(?:ar|aspect)\s+(\d{1,3})\s*:\s*(\d{1,3})(?=\s|$)/.exec(prompt);
  const w = Number(m?.[1]);
  const h = Number(m?.[2]);
  if (!w || !h) return { w: 1, h: 1 };
  // Midjourney accepts ratios up to about 1:3 / 3:1 in practice; clamp so images stay sensible.
  const r = Math.min(3, Math.max(1 / 3, w / h));
  return r >= 1 ? { w: r, h: 1 } : { w: 1, h: 1 / r };
}
