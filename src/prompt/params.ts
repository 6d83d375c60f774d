// `--params` a relay would reject (or, worse, silently ignore after charging the job): checked before anything
// is stored, so the user hears at once which one is wrong and what it takes. Rules follow Midjourney's docs;
// a parameter missing here is refused as unknown, so a new one needs a line below.
import type { Piece } from './parse.ts';

type Rule =
  /** A switch: no value. */
  | { kind: 'switch' }
  /** A number in a range (integers only when `integer`). */
  | { kind: 'number'; min: number; max: number; integer?: boolean }
  | { kind: 'choice'; values: readonly string[]; optional?: boolean }
  /** `W:H`, two positive whole numbers. */
  | { kind: 'ratio' }
  /** Free text (URLs, style codes, `--no` words); `optional`: may be empty. */
  | { kind: 'text'; optional?: boolean };

const sw = { kind: 'switch' } as const;
const range = (min: number, max: number, integer = false): Rule => ({ kind: 'number', min, max, integer });
const VERSIONS = ['1', '2', '3', '4', '5', '5.0', '5.1', '5.2', '6', '6.0', '6.1', '7', '8', '8.0', '8.1'];

const RULES: Record<string, Rule> = {
  ar: { kind: 'ratio' },
  aspect: { kind: 'ratio' },
  v: { kind: 'choice', values: VERSIONS },
  version: { kind: 'choice', values: VERSIONS },
  niji: { kind: 'choice', values: ['4', '5', '6', '7'], optional: true },
  q: { kind: 'choice', values: ['.25', '0.25', '.5', '0.5', '1', '2', '4'] },
  quality: { kind: 'choice', values: ['.25', '0.25', '.5', '0.5', '1', '2', '4'] },
  s: range(0, 1000),
  stylize: range(0, 1000),
  c: range(0, 100),
  chaos: range(0, 100),
  w: range(0, 3000),
  weird: range(0, 3000),
  seed: range(0, 4_294_967_295, true),
  sameseed: range(0, 4_294_967_295, true),
  iw: range(0, 3),
  stop: range(10, 100),
  r: range(1, 40, true),
  repeat: range(1, 40, true),
  cw: range(0, 100),
  sw: range(0, 1000),
  ow: range(1, 1000),
  exp: range(0, 100),
  sv: range(1, 6, true),
  bs: range(1, 4, true),
  zoom: range(1, 2),
  no: { kind: 'text' },
  style: { kind: 'text' },
  sref: { kind: 'text' },
  cref: { kind: 'text' },
  oref: { kind: 'text' },
  end: { kind: 'text' },
  motion: { kind: 'choice', values: ['low', 'high'] },
  p: { kind: 'text', optional: true },
  personalize: { kind: 'text', optional: true },
  profile: { kind: 'text', optional: true },
  tile: sw,
  fast: sw,
  relax: sw,
  turbo: sw,
  draft: sw,
  raw: sw,
  hd: sw,
  test: sw,
  testp: sw,
  video: sw,
  loop: sw,
  public: sw,
  stealth: sw,
  upbeta: sw,
  uplight: sw,
  upanime: sw,
};

export interface ParamRefusal {
  key: string;
  vars: Record<string, unknown>;
}

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)$/;

/** Why the value does not fit the rule (a locale key and its variables), or undefined when it does. */
function misfit(rule: Rule, value: string): ParamRefusal | undefined {
  switch (rule.kind) {
    case 'switch':
      return value ? { key: 'params:errors.noValue', vars: {} } : undefined;
    case 'text':
      return value || rule.optional ? undefined : { key: 'params:errors.needsValue', vars: {} };
    case 'ratio': {
      const m = /^(\d{1,5})\s*:\s*(\d{1,5})$/.exec(value);
      return m && Number(m[1]) > 0 && Number(m[2]) > 0 ? undefined : { key: 'params:errors.ratio', vars: {} };
    }
    case 'number': {
      const n = Number(value);
      const ok = NUMBER.test(value) && n >= rule.min && n <= rule.max && (!rule.integer || Number.isInteger(n));
      return ok ? undefined : { key: rule.integer ? 'params:errors.wholeRange' : 'params:errors.range', vars: { min: rule.min, max: rule.max } };
    }
    case 'choice':
      if (!value && rule.optional) return undefined;
      return rule.values.includes(value.toLowerCase()) ? undefined : { key: 'params:errors.choice', vars: { values: rule.values.join(', ') } };
  }
}

/** The first parameter a relay would refuse, as a localized refusal naming it; undefined when all are fine. */
export function checkParams(pieces: readonly Piece[]): ParamRefusal | undefined {
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (piece.kind !== 'flag') continue;
    const rule = RULES[piece.name];
    if (!rule) return { key: 'params:errors.unknown', vars: { param: piece.text } };
    // The flag's value: every piece up to the next flag (gaps trimmed); `--no` text comes as text pieces.
    let value = '';
    for (let j = i + 1; j < pieces.length && pieces[j]!.kind !== 'flag'; j++) value += pieces[j]!.text;
    value = value.trim();
    const wrong = misfit(rule, value);
    if (wrong) return { key: wrong.key, vars: { ...wrong.vars, param: piece.text, value } };
  }
  return undefined;
}
