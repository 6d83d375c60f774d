// Button ids carry only our task id and a provider-neutral action ("mj:<uuid>:upscale:2"): a click is resolved
// from the database, so buttons keep working after a restart and never expose upstream ids.
import { VARY_REGION, isDescribePick, isInternalAction, isShortenPick, type ButtonAction } from '../upstream/actions.ts';

const PREFIX = 'mj';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** ❌ on a waiting or running job: stops it rather than starting a new one. */
export const CANCEL = 'cancel';
/** ↻ on a failed job: starts it again (same prompt and inputs) for whoever clicks, under their own limits. */
export const RETRY = 'retry';
/** 📋 on a result: its seed, told privately to whoever clicks (where the relay can tell it). */
export const SEED = 'seed';
/** Everything a button of ours can carry. */
export type ButtonId = ButtonAction | typeof CANCEL | typeof RETRY | typeof SEED | typeof VARY_REGION;

export function encodeCustomId(taskId: string, action: ButtonId): string {
  return `${PREFIX}:${taskId}:${action}`;
}

export function decodeCustomId(customId: string): { taskId: string; action: ButtonId } | undefined {
  const [prefix, taskId, ...rest] = customId.split(':');
  const action = rest.join(':');
  const known = isInternalAction(action) || isDescribePick(action) || isShortenPick(action) || action === CANCEL || action === RETRY || action === SEED || action === VARY_REGION;
  if (prefix !== PREFIX || !taskId || !UUID.test(taskId) || !known) return undefined;
  return { taskId, action };
}
