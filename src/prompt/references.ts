// Reference images attached to /draw (style, omni, character): stored with the job as Discord CDN links and
// written into the prompt as `--sref <url>`, `--oref <url>`, `--cref <url>` only when it is submitted, so the
// link the relay gets is the one renewed then (Discord's links expire after about a day).
import type { TaskInput } from '../db/schema.ts';
import { parsePrompt } from './parse.ts';

export const REFERENCE_KINDS = ['sref', 'oref', 'cref'] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];
export type ReferenceImage = NonNullable<TaskInput['refs']>[number];

/** The reference kinds the prompt already sets itself (`--sref …` typed): an attachment of that kind would clash. */
export function typedReferences(prompt: string): ReferenceKind[] {
  const flags = new Set(parsePrompt(prompt).flatMap((p) => (p.kind === 'flag' ? [p.name] : [])));
  return REFERENCE_KINDS.filter((k) => flags.has(k));
}

/** `prompt` with ` --sref <url>` (…) appended for each reference, in the order given. */
export function withReferences(prompt: string, refs: readonly Pick<ReferenceImage, 'kind' | 'url'>[] | undefined): string {
  if (!refs?.length) return prompt;
  return [prompt.trimEnd(), ...refs.map((r) => `--${r.kind} ${r.url}`)].join(' ');
}
