// The fake Discord gateway: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME with replay
// of missed dispatches, and Discord's close codes. Plain JSON text frames only (no zlib, no ETF).
import type { IncomingMessage, Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { guildCreatePayload, type FakeGuild, type FakeUser } from './discord-objects.ts';
import { isRecord } from './discord-validation.ts';

export interface GatewayEvent {
  at: number;
  kind: 'connect' | 'identify' | 'ready' | 'resume' | 'resumed' | 'invalid_session' | 'dispatch' | 'close';
  sessionId?: string;
  detail?: string;
}

/** What the gateway needs from the fake it belongs to. */
export interface GatewayHost {
  token: string;
  applicationId: string;
  botUser: FakeUser;
  heartbeatIntervalMs: number;
  gatewayUrl(): string;
  guilds(): FakeGuild[];
  /** Called after every state change, so waiters can re-check. */
  changed(): void;
  log(line: string): void;
}

interface Dispatch {
  op: 0;
  t: string;
  s: number;
  d: unknown;
}

interface Session {
  id: string;
  seq: number;
  /** Dispatches of this session, replayed to a RESUME that missed them. */
  log: Dispatch[];
  socket?: WebSocket;
  /** The socket on which READY or RESUMED was sent last: only it receives dispatches. */
  readySocket?: WebSocket;
  intents: number;
}

interface Connection {
  socket: WebSocket;
  session?: Session;
}

const TRACE = ['["fake-gateway",{"micros":0}]'];

export class FakeGateway {
  readonly events: GatewayEvent[] = [];
  private readonly sessions = new Map<string, Session>();
  private current: Session | undefined;
  private readonly wss: WebSocketServer;

  constructor(
    server: Server,
    private readonly host: GatewayHost,
  ) {
    // Shares the HTTP server: Discord's gateway URL is ws://127.0.0.1:PORT (discord.js adds ?v=10&encoding=json).
    this.wss = new WebSocketServer({ server });
    this.wss.on('connection', (socket, req) => this.onConnection(socket, req));
  }

  /** Whether the bot has identified at least once (user actions can be dispatched or queued). */
  get hasSession(): boolean {
    return this.current !== undefined;
  }

  /** Whether the bot's socket is open and has received READY or RESUMED. */
  get isReady(): boolean {
    const s = this.current;
    return Boolean(s?.readySocket && s.readySocket === s.socket && s.socket.readyState === WebSocket.OPEN);
  }

  /** Sends a dispatch to the bot; while it is reconnecting, the dispatch waits for its RESUME. */
  dispatch(event: string, data: unknown): void {
    const session = this.current;
    if (!session) throw new Error(`Cannot dispatch ${event}: the bot has not identified on the gateway yet.`);
    this.dispatchTo(session, event, data);
  }

  private dispatchTo(session: Session, event: string, data: unknown, replayable = true): void {
    const payload: Dispatch = { op: 0, t: event, s: ++session.seq, d: data };
    if (replayable) session.log.push(payload);
    this.events.push({ at: Date.now(), kind: 'dispatch', sessionId: session.id, detail: `${event} s=${payload.s}` });
    if (session.readySocket && session.readySocket === session.socket) this.send(session.socket, payload);
    this.host.changed();
  }

  /** Drops the bot's socket: without a code like a network failure, else with a close frame. */
  async disconnect(code?: number): Promise<void> {
    const socket = this.current?.socket;
    if (!socket) return;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    if (code === undefined || code === 1006) socket.terminate();
    else socket.close(code, 'Disconnected by FakeDiscord');
    await closed;
  }

  async close(): Promise<void> {
    for (const socket of this.wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(socket: WebSocket, req: IncomingMessage): void {
    const conn: Connection = { socket };
    const query = new URL(req.url ?? '/', 'ws://fake').searchParams;
    this.events.push({ at: Date.now(), kind: 'connect', detail: query.toString() });
    this.host.log(`gateway connect ?${query.toString()}`);
    socket.on('error', () => undefined);
    if (query.get('v') && query.get('v') !== '10') {
      socket.close(4012, 'Invalid API version.');
      return;
    }
    if (query.get('encoding') && query.get('encoding') !== 'json') {
      // Only JSON is spoken here (no ETF).
      socket.close(4002, 'Error while decoding payload.');
      return;
    }
    socket.on('message', (data) => this.onMessage(conn, data));
    socket.on('close', (code) => {
      this.events.push({ at: Date.now(), kind: 'close', ...(conn.session ? { sessionId: conn.session.id } : {}), detail: String(code) });
      if (conn.session?.socket === socket) conn.session.socket = undefined;
      this.host.changed();
    });
    this.send(socket, { op: 10, d: { heartbeat_interval: this.host.heartbeatIntervalMs, _trace: TRACE }, s: null, t: null });
  }

  private onMessage(conn: Connection, raw: RawData): void {
    let payload: { op?: unknown; d?: unknown };
    try {
      payload = JSON.parse(raw.toString()) as { op?: unknown; d?: unknown };
    } catch {
      conn.socket.close(4002, 'Error while decoding payload.');
      return;
    }
    const d = isRecord(payload.d) ? payload.d : {};
    switch (payload.op) {
      case 1:
        this.send(conn.socket, { op: 11 });
        return;
      case 2:
        this.onIdentify(conn, d);
        return;
      case 6:
        this.onResume(conn, d);
        return;
      case 3: // presence update
      case 4: // voice state update
      case 8: // request guild members
      case 14: // lazy guild request
      case 31: // request soundboard sounds
        if (!conn.session) conn.socket.close(4003, 'Not authenticated.');
        return;
      default:
        conn.socket.close(4001, 'Unknown opcode.');
    }
  }

  private tokenMatches(token: unknown): boolean {
    return token === this.host.token || token === `Bot ${this.host.token}`;
  }

  private onIdentify(conn: Connection, d: Record<string, unknown>): void {
    if (conn.session) {
      conn.socket.close(4005, 'Already authenticated.');
      return;
    }
    this.events.push({ at: Date.now(), kind: 'identify', detail: `intents=${String(d.intents)}` });
    if (!this.tokenMatches(d.token)) {
      conn.socket.close(4004, 'Authentication failed.');
      return;
    }
    if (typeof d.intents !== 'number') {
      conn.socket.close(4013, 'Invalid intent(s).');
      return;
    }
    const session: Session = { id: randomBytes(16).toString('hex'), seq: 0, log: [], socket: conn.socket, readySocket: conn.socket, intents: d.intents };
    this.sessions.set(session.id, session);
    conn.session = session;
    this.current = session;
    const guilds = this.host.guilds();
    this.dispatchTo(session, 'READY', {
      v: 10,
      user: this.host.botUser,
      user_settings: {},
      guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
      relationships: [],
      private_channels: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: ['local'],
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: this.host.gatewayUrl(),
      shard: Array.isArray(d.shard) ? d.shard : [0, 1],
      application: { id: this.host.applicationId, flags: 0 },
      auth: {},
      _trace: TRACE,
    });
    for (const guild of guilds) this.dispatchTo(session, 'GUILD_CREATE', guildCreatePayload(guild, this.host.botUser));
    this.events.push({ at: Date.now(), kind: 'ready', sessionId: session.id });
    this.host.changed();
  }

  private onResume(conn: Connection, d: Record<string, unknown>): void {
    if (conn.session) {
      conn.socket.close(4005, 'Already authenticated.');
      return;
    }
    this.events.push({ at: Date.now(), kind: 'resume', sessionId: String(d.session_id), detail: `seq=${String(d.seq)}` });
    if (!this.tokenMatches(d.token)) {
      conn.socket.close(4004, 'Authentication failed.');
      return;
    }
    const session = typeof d.session_id === 'string' ? this.sessions.get(d.session_id) : undefined;
    if (!session) {
      this.events.push({ at: Date.now(), kind: 'invalid_session' });
      this.send(conn.socket, { op: 9, d: false, s: null, t: null });
      return;
    }
    session.socket?.terminate();
    session.socket = conn.socket;
    session.readySocket = conn.socket;
    conn.session = session;
    this.current = session;
    const from = typeof d.seq === 'number' ? d.seq : 0;
    const missed = session.log.filter((p) => p.s > from);
    for (const payload of missed) this.send(conn.socket, payload);
    this.dispatchTo(session, 'RESUMED', { _trace: TRACE }, false);
    this.events.push({ at: Date.now(), kind: 'resumed', sessionId: session.id, detail: `replayed ${missed.length} dispatches after seq ${from}` });
    this.host.changed();
  }

  private send(socket: WebSocket | undefined, payload: unknown): void {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(payload));
  }
}
