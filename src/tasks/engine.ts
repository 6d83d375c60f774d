// Drives the dispatcher, the queue positions and the tracker: a steady tick every POLL_INTERVAL_MS, and an
// early one whenever a new task is queued so users are not kept waiting for the next tick. Passes never overlap.
import type { Logger } from '../log.ts';
import type { Dispatcher } from './dispatcher.ts';
import type { QueuePositions } from './positions.ts';
import type { Tracker } from './tracker.ts';

/** A burst of accepted jobs kicks the engine many times: at most one pass per this gap, not one per job. */
const KICK_GAP_MS = 100;

export class Engine {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private lastPassAt = 0;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly tracker: Tracker,
    private readonly log: Logger,
    private readonly intervalMs: number,
    /** Shows queued jobs their place in line (optional: tools and tests may run without). */
    private readonly positions?: Pick<QueuePositions, 'run'>,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Run a pass as soon as possible (after the current one, if any). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(this.kickDelay());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), ms);
  }

  private kickDelay(): number {
    return Math.max(0, this.lastPassAt + KICK_GAP_MS - Date.now());
  }

  private async pass(): Promise<void> {
    if (this.running || this.stopped) return;
    this.lastPassAt = Date.now();
    this.running = (async () => {
      try {
        await this.dispatcher.run();
        // After the dispatcher: the jobs it just started left the queue, and everyone behind them moved up.
        await this.positions?.run();
        await this.tracker.run();
      } catch (err) {
        this.log.error({ err }, 'engine pass failed');
      }
    })();
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    const soon = this.again;
    this.again = false;
    this.schedule(soon ? this.kickDelay() : this.intervalMs);
  }
}
