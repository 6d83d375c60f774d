// midjourney-proxy (plus / trueai) tasks list the Discord buttons Midjourney put under the result. Each
// customId is opaque and must be sent back as it came; this module only recognises which of our internal
// actions a button stands for, so the UI offers exactly what the job offers.
import type { InternalAction } from './actions.ts';

const RULES: Array<[RegExp, (m: RegExpExecArray) => InternalAction | undefined]> = [
  [/^MJ::JOB::upsample::([1-4])::/, (m) => `upscale:${m[1]}` as InternalAction],
  [/^MJ::JOB::variation::([1-4])::/, (m) => `variation:${m[1]}` as InternalAction],
  [/^MJ::JOB::reroll::/, () => 'reroll'],
  [/^MJ::JOB::low_variation::/, () => 'vary:subtle'],
  [/^MJ::JOB::high_variation::/, () => 'vary:strong'],
  [/^MJ::Outpaint::50::/, () => 'zoom:2'],
  [/^MJ::Outpaint::75::/, () => 'zoom:1.5'],
  [/^MJ::CustomZoom::/, () => 'zoom:custom'],
  [/^MJ::JOB::pan_(left|right|up|down)::/, (m) => `pan:${m[1]}` as InternalAction],
  // Video (trueai-org, TaskInfo.cs / CustomComponentModel.CreateAnimateButtons): Animate on an upscale, U1–U4 on
  // a batch of clips (video_virtual_upscale), Extend on a picked clip. The extend rule comes first: both start alike.
  [/^MJ::JOB::animate_(high|low)_extend::/, (m) => `extend:${m[1]}` as InternalAction],
  [/^MJ::JOB::animate_(high|low)::/, (m) => `animate:${m[1]}` as InternalAction],
  [/^MJ::JOB::video_virtual_upscale::([1-4])::/, (m) => `video:pick:${m[1]}` as InternalAction],
  // Version-specific upscalers: upsample_v5_2x, upsample_v6_2x_subtle, upsample_v7_2x_creative...
  [/^MJ::JOB::upsample_v\d+_2x_(subtle|creative)::/, (m) => `upscale:${m[1]}` as InternalAction],
  [/^MJ::JOB::upsample_v\d+_(2x|4x)::/, (m) => `upscale:${m[1]}` as InternalAction],
];

/** The internal action a Midjourney button customId stands for; undefined for buttons we do not offer (Vary Region...). */
export function actionForCustomId(customId: string): InternalAction | undefined {
  for (const [re, to] of RULES) {
    const m = re.exec(customId);
    if (m) return to(m);
  }
  return undefined;
}

/** Internal action → customId, for every button of a task we can offer (first one wins on duplicates). */
export function customIdsFromButtons(buttons: unknown): Partial<Record<InternalAction, string>> {
  const out: Partial<Record<InternalAction, string>> = {};
  if (!Array.isArray(buttons)) return out;
  for (const b of buttons) {
    const customId = (b as { customId?: unknown } | null)?.customId;
    if (typeof customId !== 'string') continue;
    const action = actionForCustomId(customId);
    if (action && !out[action]) out[action] = customId;
  }
  return out;
}
