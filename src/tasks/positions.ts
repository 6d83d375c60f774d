// Each queued job's place in line, shown on its reply and kept current as the queue moves. The lifecycle's
// movePositions ranks the queue, records the new places and returns only the replies worth editing: the place
// changed and the last edit is old enough. Because that UPDATE decides, two instances never both edit the same
// change, and a long queue does not flood Discord (places beyond the first few are refreshed rarely).
import type { Logger } from '../log.ts';
import type { Delivery } from './delivery.ts';
import type { Lifecycle } from './lifecycle.ts';

/** Places up to this one are refreshed as often as progress; further back, every FAR_INTERVAL_MS. */
export const NEAR_POSITIONS = 25;
export const FAR_INTERVAL_MS = 30_000;

/** The dispatch loop's position pass: store the moves, then show each on its reply. */
export class QueuePositions {
  constructor(
    private readonly lifecycle: Pick<Lifecycle, 'movePositions'>,
    private readonly delivery: Pick<Delivery, 'queued'>,
    private readonly log: Logger,
    private readonly nearIntervalMs: number,
  ) {}

  async run(): Promise<void> {
    try {
      const moved = await this.lifecycle.movePositions({ nearPositions: NEAR_POSITIONS, nearIntervalMs: this.nearIntervalMs, farIntervalMs: FAR_INTERVAL_MS });
      this.delivery.queued(moved);
    } catch (err) {
      // Positions are a courtesy: a failed pass must not stop dispatch.
      this.log.error({ err }, 'queue position pass failed');
    }
  }
}
