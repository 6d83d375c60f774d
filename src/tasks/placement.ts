// Which queued jobs start now, and where. Oldest first; a job waits (without holding up the ones behind it)
// while its user already has USER_MAX_CONCURRENT jobs running or no account that can run it has room. Among
// accounts with room, the one with the least load for its weight gets the job.
import type { Account } from '../upstream/accounts.ts';
import type { InFlight, Placement, QueuedTask } from './repo.ts';

/** A job no configured account can ever run, with the reason the user is given. */
export interface Unplaceable {
  id: string;
  reason: string;
}

export interface PlacementInput {
  queued: QueuedTask[];
  inFlight: InFlight[];
  /** Every configured account (paused ones included: a job pinned to one waits rather than fails). */
  accounts: readonly Account[];
  usable: (accountId: string) => boolean;
  userMaxConcurrent: number;
}

/** Whether the account's relay can run this job at all (capabilities and speed modes). */
export function canRun(account: Account, task: Pick<QueuedTask, 'action' | 'mode' | 'hasImages' | 'hasPrompt'>): boolean {
  const caps = account.provider.capabilities;
  if (task.mode && account.modes && !account.modes.includes(task.mode)) return false;
  if (task.action === 'blend') return caps.blend;
  if (task.action === 'describe') return caps.describe;
  if (task.action === 'shorten') return Boolean(caps.shorten);
  // /animate without a motion prompt: not on a relay whose video endpoint requires one (TTApi, AceData).
  if (task.action === 'animate') return Boolean(caps.animateImages) && (task.hasPrompt || !caps.animateNeedsPrompt);
  if (task.action === 'imagine' && task.hasImages) return Boolean(caps.imagePrompts);
  return true;
}

/** Jobs in flight per account. */
function loadOf(inFlight: readonly InFlight[]): Map<string, number> {
  const load = new Map<string, number>();
  for (const row of inFlight) if (row.account) load.set(row.account, (load.get(row.account) ?? 0) + row.n);
  return load;
}

/** Whether some usable account has room for one more job: when none has, no queued job can start (place stops at once). */
export function hasRoom(input: Pick<PlacementInput, 'inFlight' | 'accounts' | 'usable'>): boolean {
  const load = loadOf(input.inFlight);
  return input.accounts.some((a) => a.concurrency - (load.get(a.id) ?? 0) > 0 && input.usable(a.id));
}

export function place(input: PlacementInput): { placements: Placement[]; unplaceable: Unplaceable[] } {
  const load = loadOf(input.inFlight);
  const perUser = new Map<string, number>();
  for (const row of input.inFlight) perUser.set(row.userId, (perUser.get(row.userId) ?? 0) + row.n);
  const free = (a: Account) => a.concurrency - (load.get(a.id) ?? 0);
  const placements: Placement[] = [];
  const unplaceable: Unplaceable[] = [];

  for (const task of input.queued) {
    if (!input.accounts.some((a) => free(a) > 0 && input.usable(a.id))) break;
    const eligible = input.accounts.filter((a) => (task.account ? a.id === task.account : true) && canRun(a, task));
    if (eligible.length === 0) {
      // Pinned to an account that is no longer configured (its upstream job is unreachable), or nothing can run it.
      const promptless = task.action === 'animate' && !task.hasPrompt && input.accounts.some((a) => a.provider.capabilities.animateImages);
      unplaceable.push({ id: task.id, reason: task.account ? 'errors.expired' : promptless ? 'video:errors.promptRequired' : 'images:errors.unsupported' });
      continue;
    }
    if ((perUser.get(task.userId) ?? 0) >= input.userMaxConcurrent) continue;
    const open = eligible.filter((a) => input.usable(a.id) && free(a) > 0);
    if (open.length === 0) continue;
    const best = open.reduce((a, b) => ((load.get(b.id) ?? 0) / b.weight < (load.get(a.id) ?? 0) / a.weight ? b : a));
    placements.push({ id: task.id, account: best.id });
    load.set(best.id, (load.get(best.id) ?? 0) + 1);
    perUser.set(task.userId, (perUser.get(task.userId) ?? 0) + 1);
  }
  return { placements, unplaceable };
}
