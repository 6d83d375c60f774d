// One background loop: a pass every `intervalMs`, an early one when kicked, never two passes at once, and a burst
// of kicks coalesced to one pass per `kickGapMs`. Dispatch, each relay account's tracking and the delivery outbox
// each run on a loop of their own, so none waits for another's network I/O.
import type { Logger } from '../log.ts';

export class Loop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private lastPassAt = 0;

  constructor(
    private readonly name: string,
    private readonly pass: () => Promise<void>,
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly kickGapMs = 100,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Run a pass as soon as possible (after the current one, if any). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(Math.max(0, this.lastPassAt + this.kickGapMs - Date.now()));
  }

  /** No more passes; resolves when the current one has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms);
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.lastPassAt = Date.now();
    this.running = this.pass().catch((err: unknown) => this.log.error({ err, loop: this.name }, 'loop pass failed'));
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    const soon = this.again;
    this.again = false;
    this.schedule(soon ? Math.max(0, this.lastPassAt + this.kickGapMs - Date.now()) : this.intervalMs);
  }
}
