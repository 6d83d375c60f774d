// Button ids carry only our task id and a provider-neutral action ("mj:<uuid>:upscale:2"): a click is resolved
// from the database, so buttons keep working after a restart and never expose upstream ids.
import { isDescribePick, isInternalAction, type ButtonAction } from '../upstream/actions.ts';

const PREFIX = 'mj';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCustomId(taskId: string, action: ButtonAction): string {
  return `${PREFIX}:${taskId}:${action}`;
}

export function decodeCustomId(customId: string): { taskId: string; action: ButtonAction } | undefined {
  const [prefix, taskId, ...rest] = customId.split(':');
  const action = rest.join(':');
  if (prefix !== PREFIX || !taskId || !UUID.test(taskId) || !(isInternalAction(action) || isDescribePick(action))) return undefined;
  return { taskId, action };
}
