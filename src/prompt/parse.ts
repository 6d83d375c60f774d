// A Midjourney prompt cut into pieces, so translation and the banned-word check touch only the prose:
// image URLs, `::` weights and `--params` pass through (normalised), the text of `--no` is its own piece.
// Joining the pieces again gives back the prompt exactly, unless a piece was normalised or translated.

export type Piece =
  /** Whitespace between pieces, kept as typed. */
  | { kind: 'gap'; text: string }
  /** Prose: translated when it holds Han characters. `negative` marks the text of a `--no` clause. */
  | { kind: 'text'; text: string; negative: boolean }
  | { kind: 'url'; text: string }
  /** A multi-prompt separator with its optional weight, `::` or `::-0.5`. */
  | { kind: 'weight'; text: string }
  /** A parameter name with its dashes, `--ar`. */
  | { kind: 'flag'; text: string; name: string }
  /** A parameter value other than `--no`'s, `16:9`. */
  | { kind: 'value'; text: string };

const HAN = /\p{Script=Han}/u;

export const hasHan = (s: string) => HAN.test(s);

/**
 * Parameter names Midjourney and the relays know. A Chinese keyboard types `——` (or a full-width `－－`) for
 * `--`, and some editors turn `--` into `—`; those dashes also appear in prose, so they start a parameter
 * only before one of these names. Plain `--` starts a parameter before any name, as Midjourney reads it.
 */
const KNOWN_PARAMS = new Set([
  'ar', 'aspect', 'bs', 'c', 'chaos', 'cref', 'cw', 'draft', 'end', 'exp', 'fast', 'hd', 'iw', 'loop', 'motion',
  'niji', 'no', 'oref', 'ow', 'p', 'personalize', 'profile', 'public', 'q', 'quality', 'r', 'raw', 'relax', 'repeat',
  's', 'sameseed', 'seed', 'sref', 'stealth', 'stop', 'style', 'stylize', 'sv', 'sw', 'test', 'testp', 'tile', 'turbo',
  'upanime', 'upbeta', 'uplight', 'v', 'version', 'video', 'w', 'weird',
]);

// A parameter starts at dashes followed by a name; plain `--` only where it does not continue a word
// (`well--known` is prose), the other dashes anywhere (`16：9——v 6`), their name being checked instead.
const FLAG = /((?<![A-Za-z0-9\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A])--|——|—|－－|――|―|––)([A-Za-z\uFF21-\uFF3A\uFF41-\uFF5A]+)/g;
// URLs end at whitespace, brackets, Han characters and full-width punctuation (Chinese text often follows without a space).
const URL = /<?https?:\/\/[^\s<>\p{Script=Han}\u3000-\u303F\uFF00-\uFFEF]+>?/gu;
// `::` (or the full-width `：：` a Chinese keyboard types) with a weight written right after it.
const WEIGHT = /[:：]{2}(?:[-－]?[0-9０-９]+(?:[.．。][0-9０-９]+)?)?/g;

/** Full-width letters, digits and punctuation to ASCII, the way a Chinese keyboard's typos need. */
const ascii = (s: string) => s.normalize('NFKC').replace(/[。．]/g, '.').replace(/[－—–]/g, '-');

interface Span {
  start: number;
  end: number;
}

function spans(re: RegExp, s: string): Array<Span & { match: RegExpExecArray }> {
  return [...s.matchAll(re)].map((match) => ({ start: match.index, end: match.index + match[0].length, match }));
}

const inside = (i: number, list: Span[]) => list.some((s) => i >= s.start && i < s.end);

/** Whitespace at either end becomes gap pieces around the trimmed core. */
function padded(text: string, core: (t: string) => Piece[]): Piece[] {
  const m = /^(\s*)([\s\S]*?)(\s*)$/.exec(text)!;
  const out: Piece[] = [];
  if (m[1]) out.push({ kind: 'gap', text: m[1] });
  if (m[2]) out.push(...core(m[2]));
  if (m[3]) out.push({ kind: 'gap', text: m[3] });
  return out;
}

/** Prose with URLs and weights cut out; whitespace between words stays inside the text piece. */
function prose(text: string, negative: boolean): Piece[] {
  const out: Piece[] = [];
  const cut = [
    ...spans(URL, text).map((s) => ({ ...s, piece: { kind: 'url', text: s.match[0] } as Piece })),
    ...spans(WEIGHT, text)
      .filter((s) => !negative)
      .map((s) => ({ ...s, piece: { kind: 'weight', text: `::${ascii(s.match[0].slice(2))}` } as Piece })),
  ]
    .sort((a, b) => a.start - b.start)
    .filter((s, i, all) => i === 0 || s.start >= all[i - 1]!.end);
  let at = 0;
  for (const c of cut) {
    out.push(...padded(text.slice(at, c.start), (t) => [{ kind: 'text', text: t, negative }]));
    out.push(c.piece);
    at = c.end;
  }
  out.push(...padded(text.slice(at), (t) => [{ kind: 'text', text: t, negative }]));
  return out;
}

export function parsePrompt(prompt: string): Piece[] {
  const urls = spans(URL, prompt);
  const flags = spans(FLAG, prompt).filter((f) => {
    if (inside(f.start, urls)) return false;
    return f.match[1] === '--' || KNOWN_PARAMS.has(ascii(f.match[2]!).toLowerCase());
  });

  const pieces = prose(prompt.slice(0, flags[0]?.start ?? prompt.length), false);
  flags.forEach((f, i) => {
    const name = ascii(f.match[2]!);
    pieces.push({ kind: 'flag', text: `--${name}`, name: name.toLowerCase() });
    const rest = prompt.slice(f.end, flags[i + 1]?.start ?? prompt.length);
    if (name.toLowerCase() === 'no') pieces.push(...prose(rest, true));
    else pieces.push(...padded(rest, (t) => [{ kind: 'value', text: ascii(t) }]));
  });
  return pieces;
}

/** Puts pieces back together; a space is added where a URL or a parameter would otherwise touch its neighbour. */
export function joinPieces(pieces: readonly Piece[]): string {
  let out = '';
  let prev: Piece | undefined;
  for (const p of pieces) {
    if (p.text === '') continue;
    const touching = prev && prev.kind !== 'gap' && p.kind !== 'gap';
    // After a weight, English needs the space Chinese does without (`热狗::2动物` → `hot dog::2 animal`).
    const afterWeight = prev?.kind === 'weight' && p.kind === 'text' && !hasHan(p.text.charAt(0));
    const needsSpace = touching && (p.kind === 'flag' || p.kind === 'url' || prev!.kind === 'url' || afterWeight);
    out += (needsSpace ? ' ' : '') + p.text;
    prev = p;
  }
  return out.trim();
}

/** The prompt as it should go upstream without translation: parameters normalised, everything else as typed. */
export const normalizePrompt = (prompt: string) => joinPieces(parsePrompt(prompt));

/** Prose pieces holding Han characters: what translation has to do. */
export const hanTexts = (pieces: readonly Piece[]) =>
  pieces.filter((p): p is Extract<Piece, { kind: 'text' }> => p.kind === 'text' && hasHan(p.text));
