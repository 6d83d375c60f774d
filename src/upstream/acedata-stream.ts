// AceData without a callback: `POST /midjourney/imagine` blocks until the image is done, or, with
// `accept: application/x-ndjson`, streams one JSON object per progress change. The streams live here, in the
// background, and the adapter's fetch() answers from the latest line each one delivered.
import { randomUUID } from 'node:crypto';
import { isRecord } from './parse.ts';
import { UpstreamAccountError, UpstreamRejected } from './provider.ts';

/** What one stream has shown so far. */
export interface StreamState {
  /** The latest object received (a progress line, the final result, or an error object). */
  latest?: Record<string, unknown>;
  /** AceData's own task id, when a line carried one: lets the adapter fall back to /midjourney/tasks. */
  taskId?: string;
  /** The stream closed (normally or not); `latest` is all there will be. */
  ended: boolean;
  /** Why the stream broke off, when it did not end with a result. */
  error?: string;
  /** The request was for video (`/midjourney/videos`): its result must carry clips. */
  video?: boolean;
}

/** Local ids of streamed jobs: AceData's stream lines carry no task id we could use instead. */
export const STREAM_ID_PREFIX = 'stream-';

export interface StreamOptions {
  url: string;
  /** The endpoint's path, for messages (`/midjourney/imagine`, `/midjourney/videos`, `/midjourney/edits`). */
  path: string;
  /** A video request (see StreamState.video). */
  video?: boolean;
  headers: Record<string, string>;
  body: unknown;
  /** A stream silent for this long is given up (the job is then reported lost). */
  idleMs: number;
  /** How long a finished stream's state is kept for fetch() to report. */
  keepMs: number;
}

/** Maps a refused stream request to the errors the core understands, as UpstreamHttp does for JSON calls. */
function refusal(path: string, status: number, text: string): Error {
  let message = `HTTP ${status}`;
  let code: string | undefined;
  try {
    const body = JSON.parse(text) as unknown;
    const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
    if (typeof error?.message === 'string') message = error.message;
    if (typeof error?.code === 'string') code = error.code;
  } catch {
    // Not JSON: keep the status line.
  }
  const detail = `${path}: ${message}`;
  if (status === 401 || status === 403) return new UpstreamAccountError(code === 'used_up' ? 'balance' : 'auth', detail);
  if (status === 402) return new UpstreamAccountError('balance', detail);
  if (status === 429) return new UpstreamAccountError('rate_limited', detail);
  if (status >= 500 || (status === 404 && !code)) return new UpstreamAccountError('unavailable', detail);
  return new UpstreamRejected(message);
}

export class AceDataStreams {
  private readonly streams = new Map<string, StreamState>();

  get(id: string): StreamState | undefined {
    return this.streams.get(id);
  }

  /**
   * Opens the stream and returns its local id once AceData accepted the request (the response headers
   * arrived); the lines are then read in the background.
   */
  async open(opts: StreamOptions): Promise<string> {
    const abort = new AbortController();
    // The signal governs the body too, so this timer covers only the wait for the response to start. It is as
    // patient as the stream itself: AceData may hold the headers while the job queues, and giving up early
    // would make the dispatcher retry, i.e. pay for a second job.
    const accepting = setTimeout(() => abort.abort(), opts.idleMs);
    let res: Response;
    try {
      res = await fetch(opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/x-ndjson', ...opts.headers },
        body: JSON.stringify(opts.body),
        signal: abort.signal,
      });
    } catch (err) {
      throw new UpstreamAccountError('unavailable', `${opts.path}: ${(err as Error).message}`);
    } finally {
      clearTimeout(accepting);
    }
    if (!res.ok || !res.body) throw refusal(opts.path, res.status, await res.text().catch(() => ''));
    const id = `${STREAM_ID_PREFIX}${randomUUID()}`;
    const state: StreamState = { ended: false, ...(opts.video && { video: true }) };
    this.streams.set(id, state);
    void this.read(res.body, state, abort, opts).finally(() => {
      state.ended = true;
      setTimeout(() => this.streams.delete(id), opts.keepMs).unref();
    });
    return id;
  }

  private async read(body: ReadableStream<Uint8Array>, state: StreamState, abort: AbortController, opts: StreamOptions) {
    let idle = setTimeout(() => abort.abort(), opts.idleMs);
    let buffered = '';
    const take = (line: string) => {
      if (!line.trim()) return;
      try {
        const value = JSON.parse(line) as unknown;
        if (!isRecord(value)) return;
        state.latest = value;
        if (typeof value.task_id === 'string' && value.task_id) state.taskId = value.task_id;
      } catch {
        // A garbled line: the next one carries the newer state anyway.
      }
    };
    try {
      const decoder = new TextDecoder();
      for await (const chunk of body) {
        clearTimeout(idle);
        idle = setTimeout(() => abort.abort(), opts.idleMs);
        buffered += decoder.decode(chunk, { stream: true });
        const lines = buffered.split(/\r?\n/);
        buffered = lines.pop()!;
        lines.forEach(take);
      }
      take(buffered);
    } catch (err) {
      state.error = abort.signal.aborted ? `no update for ${Math.round(opts.idleMs / 1000)} s` : (err as Error).message;
    } finally {
      clearTimeout(idle);
    }
  }
}
