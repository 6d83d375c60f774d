// What the adapters' contract tests share: polling one job until it gets somewhere, and a parent for actions.
import type { ParentRef, Provider, UpstreamJob } from '../../src/upstream/provider.ts';

/** The job has ended, one way or the other. */
export const isOver = (j: UpstreamJob) => j.status === 'succeeded' || j.status === 'failed';

/**
 * Fetches `id` until `done` holds for the answer (at most 200 tries, `everyMs` apart). Every answer is kept in
 * `seen` (a list of the caller's, or a new one).
 */
export async function fetchUntil(
  provider: Pick<Provider, 'fetch'>,
  id: string,
  done: (j: UpstreamJob) => boolean = isOver,
  opts: { everyMs?: number; seen?: UpstreamJob[] } = {},
): Promise<{ job: UpstreamJob; seen: UpstreamJob[] }> {
  const seen = opts.seen ?? [];
  for (let i = 0; i < 200; i++) {
    const [job] = await provider.fetch([id]);
    if (job) seen.push(job);
    if (job && done(job)) return { job, seen };
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 20));
  }
  throw new Error(`job ${id} never got there: ${JSON.stringify(seen.at(-1))}`);
}

/** The parent an action names: the job as fetched, under `prompt`. */
export const parentOf = (upstreamId: string, job: UpstreamJob, prompt: string): ParentRef => ({
  upstreamId,
  upstreamData: job.upstreamData ?? null,
  imageUrls: job.imageUrls ?? [],
  prompt,
});
