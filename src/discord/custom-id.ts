// Button ids carry only our task id and a provider-neutral action ("mj:<uuid>:upscale:2"): a click is resolved
// from the database, so buttons keep working after a restart and never expose upstream ids.
import { isInternalAction, type InternalAction } from '../upstream/actions.ts';

const PREFIX = 'mj';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCustomId(taskId: string, action: InternalAction): string {
  return `${PREFIX}:${taskId}:${action}`;
}

export function decodeCustomId(customId: string): { taskId: string; action: InternalAction } | undefined {
  const [prefix, taskId, ...rest] = customId.split(':');
  const action = rest.join(':');
  if (prefix !== PREFIX || !taskId || !UUID.test(taskId) || !isInternalAction(action)) return undefined;
  return { taskId, action };
}
