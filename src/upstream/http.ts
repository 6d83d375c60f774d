// The HTTP client every relay adapter uses: JSON in and out, a timeout, and HTTP failures turned into the
// errors the core understands (account problems for the admin, transient ones to retry).
import { UpstreamAccountError } from './provider.ts';

export interface JsonRequest {
  method?: 'GET' | 'POST' | 'DELETE';
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
  /** Statuses handed back to the caller instead of thrown (a relay whose 403 is not about the key). */
  passStatuses?: readonly number[];
}

/** Where a relay account lives, and how long one request to it may take. */
export interface RelayConnection {
  baseUrl: string;
  apiKey: string;
  /** Per request (UPSTREAM_TIMEOUT_MS); a relay that does not answer in time counts as unavailable. */
  timeoutMs?: number;
}

export class UpstreamHttp {
  constructor(
    readonly baseUrl: string,
    private readonly authHeaders: Record<string, string>,
    private readonly defaultTimeoutMs = 30_000,
  ) {}

  /** Resolves a path, or a relative image URL an upstream returned, against the provider's origin. */
  resolve(pathOrUrl: string): string {
    return new URL(pathOrUrl, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`).toString();
  }

  async json<T = unknown>(path: string, req: JsonRequest = {}): Promise<{ status: number; body: T }> {
    const url = new URL(this.resolve(path.replace(/^\//, '')));
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
    let res: Response;
    try {
      res = await fetch(url, {
        method: req.method ?? (req.body === undefined ? 'GET' : 'POST'),
        headers: {
          accept: 'application/json',
          ...(req.body !== undefined && { 'content-type': 'application/json' }),
          ...this.authHeaders,
          ...req.headers,
        },
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: AbortSignal.timeout(req.timeoutMs ?? this.defaultTimeoutMs),
      });
    } catch (err) {
      throw new UpstreamAccountError('unavailable', `${url.pathname}: ${(err as Error).message}`);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      if (res.ok) throw new UpstreamAccountError('unavailable', `${url.pathname}: HTTP ${res.status} with a body that is not JSON`);
    }
    if (req.passStatuses?.includes(res.status)) return { status: res.status, body: body as T };
    if (res.status === 401 || res.status === 403) throw new UpstreamAccountError('auth', `${url.pathname}: HTTP ${res.status} (check UPSTREAM_API_KEY)`);
    if (res.status === 402) throw new UpstreamAccountError('balance', `${url.pathname}: HTTP 402 (the relay account has no balance left)`);
    if (res.status === 429) throw new UpstreamAccountError('rate_limited', `${url.pathname}: HTTP 429`);
    if (res.status >= 500) throw new UpstreamAccountError('unavailable', `${url.pathname}: HTTP ${res.status}`);
    return { status: res.status, body: body as T };
  }
}
