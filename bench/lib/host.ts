// The orchestrator's handle on bench/fakes-host.ts: forks it (through tsx, like the bot) and sends it commands.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../../test/support/bot.ts';
import type { BurstArgs, BurstResult, JobTrace, RestSummary, StartArgs, StartResult } from '../fakes-host.ts';

const TSX_LOADER = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export interface HostHealth {
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  cpuMs: number;
}

export class FakesHost {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const waiter = this.pending.get(m.id);
      if (!waiter) return;
      this.pending.delete(m.id);
      if (m.ok) waiter.resolve(m.result);
      else waiter.reject(new Error(`fakes host: ${m.error}`));
    });
    child.on('exit', (code) => {
      for (const w of this.pending.values()) w.reject(new Error(`fakes host exited (${code})`));
      this.pending.clear();
    });
  }

  /** Forks the host and starts its fakes. */
  static async start(args: StartArgs): Promise<{ host: FakesHost; fakes: StartResult }> {
    const child = fork(path.join(ROOT, 'bench/fakes-host.ts'), [], {
      execArgv: ['--import', TSX_LOADER],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const host = new FakesHost(child);
    await new Promise<void>((resolve, reject) => {
      const onReady = (m: { id: number }) => {
        if (m.id !== 0) return;
        child.off('message', onReady);
        resolve();
      };
      child.on('message', onReady);
      child.once('exit', (code) => reject(new Error(`fakes host exited (${code}) before it was ready`)));
    });
    const fakes = (await host.call('start', args)) as StartResult;
    return { host, fakes };
  }

  get pid(): number {
    return this.child.pid!;
  }

  private call(cmd: string, args: unknown = {}): Promise<unknown> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, cmd, args });
    });
  }

  burst(args: BurstArgs) {
    return this.call('burst', args) as Promise<BurstResult>;
  }
  traces() {
    return this.call('traces') as Promise<JobTrace[]>;
  }
  rest() {
    return this.call('rest') as Promise<RestSummary>;
  }
  channelUploads() {
    return this.call('channelUploads') as Promise<number[]>;
  }
  relay() {
    return this.call('relay') as Promise<{ maxInFlight: number; fetches: number; jobs: number } | undefined>;
  }
  baidu() {
    return this.call('baidu') as Promise<{ requests: Array<{ at: number; lines: number; answer: string }>; violations: string[] } | undefined>;
  }
  health() {
    return this.call('health') as Promise<HostHealth>;
  }
  /** Forgets what the fakes recorded so far (the bot's start-up traffic, an earlier phase). */
  mark() {
    return this.call('mark');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await this.call('stop').catch(() => undefined);
    this.child.disconnect();
    await new Promise((resolve) => (this.child.exitCode !== null ? resolve(null) : this.child.once('exit', resolve)));
  }
}
