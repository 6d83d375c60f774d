// Each queued job's place in line, shown on its reply and kept current as the queue moves. One UPDATE ranks the
// queue, records the new places and returns only the replies worth editing: the place changed and the last edit
// is old enough. Because the UPDATE decides, two instances never both edit the same change, and a long queue
// does not flood Discord (places beyond the first few are refreshed rarely).
import { and, eq, getTableColumns, gt, isNotNull, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { tasks, type Task } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import type { Delivery } from './delivery.ts';

/** Places up to this one are refreshed as often as progress; further back, every FAR_INTERVAL_MS. */
export const NEAR_POSITIONS = 25;
export const FAR_INTERVAL_MS = 30_000;

export interface MovedTask {
  task: Task;
  position: number;
}

/**
 * Ranks every queued task (arrival order: created_at, then id) and stores the place of those whose place
 * changed and whose reply can still be edited, at most once per `nearIntervalMs` (NEAR_POSITIONS and better)
 * or FAR_INTERVAL_MS. Returns what it stored: the replies to edit now.
 */
export async function movePositions(db: Db, nearIntervalMs: number): Promise<MovedTask[]> {
  const ranked = db.$with('ranked').as(
    db
      .select({ rankedId: sql<string>`${tasks.id}`.as('ranked_id'), place: sql<number>`row_number() over (order by ${tasks.createdAt}, ${tasks.id})`.as('place') })
      .from(tasks)
      .where(eq(tasks.status, 'queued')),
  );
  const throttle = sql`(case when ${ranked.place} <= ${NEAR_POSITIONS}::int then ${nearIntervalMs}::int else ${FAR_INTERVAL_MS}::int end) * interval '1 millisecond'`;
  const rows = await db
    .with(ranked)
    .update(tasks)
    .set({ queuePosition: sql`${ranked.place}`, positionShownAt: sql`now()` })
    .from(ranked)
    .where(
      and(
        eq(tasks.id, ranked.rankedId),
        // Re-checked on the row itself: a job claimed or cancelled since the ranking is left alone.
        eq(tasks.status, 'queued'),
        sql`${tasks.queuePosition} is distinct from ${ranked.place}`,
        or(isNull(tasks.positionShownAt), sql`${tasks.positionShownAt} < now() - ${throttle}`),
        // Only replies Discord still lets us edit (the interaction token lives 15 minutes).
        isNotNull(tasks.interactionToken),
        gt(tasks.tokenExpiresAt, sql`now()`),
      ),
    )
    .returning(getTableColumns(tasks));
  return rows
    .map((task) => ({ task, position: task.queuePosition! }))
    .sort((a, b) => a.position - b.position);
}

/** The engine's position pass: store the moves, then show each on its reply. */
export class QueuePositions {
  constructor(
    private readonly db: Db,
    private readonly delivery: Pick<Delivery, 'queued'>,
    private readonly log: Logger,
    private readonly nearIntervalMs: number,
  ) {}

  async run(): Promise<void> {
    try {
      for (const { task, position } of await movePositions(this.db, this.nearIntervalMs)) void this.delivery.queued(task, position);
    } catch (err) {
      // Positions are a courtesy: a failed pass must not stop the engine from dispatching and tracking.
      this.log.error({ err }, 'queue position pass failed');
    }
  }
}
