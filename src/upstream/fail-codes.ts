// Why a relay failed a job, as a code: the sentence the user reads (what happened, what to do) lives in
// locales/*/relay.json under `fail.<code>`, and the relay's own words are shown after it. Adapters set the code
// where they know it; `failCodeOf` reads the words relays actually use (Midjourney's Discord embed titles, as
// midjourney-proxy forwards them: novicezk's ErrorMessageHandler, trueai-org's DiscordMessageHandler).

export const FAIL_CODES = [
  /** Midjourney refused the prompt outright (a banned word). */
  'banned_prompt',
  /** Midjourney's moderators hold or refused it ("Action needed to continue", "Pending mod message", community standards). */
  'moderation',
  /** A parameter Midjourney does not accept (bad --ar, unknown flag, invalid link). */
  'invalid_parameter',
  /** The relay reported success but gave no image / no description. */
  'no_image',
  'no_description',
  /** Cancelled at the relay (not by ❌ here). */
  'cancelled_upstream',
  /** Anything else the relay reported: its words alone are shown. */
  'relay_error',
] as const;
export type FailCode = (typeof FAIL_CODES)[number];

const CODES: ReadonlySet<string> = new Set(FAIL_CODES);
export const isFailCode = (v: unknown): v is FailCode => typeof v === 'string' && CODES.has(v);

/** Codes for which waiting longer cannot help: a job reported with one fails at once, even if the relay still shows it running. */
export const BLOCKING_CODES: ReadonlySet<FailCode> = new Set(['banned_prompt', 'moderation', 'invalid_parameter']);

const PATTERNS: [FailCode, RegExp][] = [
  ['banned_prompt', /banned prompt|banned word|敏感词|prohibited/i],
  ['moderation', /action needed to continue|pending mod|moderat|community standards|违规|人工验证|verify you're human|output filters/i],
  ['invalid_parameter', /invalid param|unrecognized (param|arg)|unknown param|invalid link|invalid prompt|参数错误|无效参数|not a valid/i],
];

/** The code a relay's text names, or undefined when it names none of the known conditions. */
export function blockingCodeOf(text: string | null | undefined): FailCode | undefined {
  if (!text) return undefined;
  return PATTERNS.find(([, re]) => re.test(text))?.[0];
}

/** The code for a relay's failure text (relay_error when it names nothing known). */
export function failCodeOf(text: string | null | undefined): FailCode {
  return blockingCodeOf(text) ?? 'relay_error';
}

/** Our own reasons are locale keys (`errors.x`, or `ns:errors.x`); anything else is a relay's words. */
export const isLocaleKey = (reason: string) => /^(\w+:)?errors\./.test(reason);
