// The fake Discord gateway: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME with replay
// of missed dispatches, and Discord's close codes. Plain JSON text frames only (no zlib, no ETF).
// Sharded like Discord: IDENTIFY's `shard: [id, count]` picks the guilds a session hears about, and a guild's
// events go only to sessions whose shard is (guild_id >> 22) % count (direct messages: shard 0).
import type { IncomingMessage, Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { guildCreatePayload, type FakeGuild, type FakeUser } from './discord-objects.ts';
import { isRecord } from './discord-validation.ts';

export interface GatewayEvent {
  at: number;
  kind: 'connect' | 'identify' | 'ready' | 'resume' | 'resumed' | 'invalid_session' | 'dispatch' | 'undelivered' | 'close';
  sessionId?: string;
  /** The session's `[shard_id, num_shards]`. */
  shard?: [number, number];
  detail?: string;
}

/** Which shard of `count` receives a guild's events, as Discord computes it; DMs (no guild) go to shard 0. */
export function shardOf(guildId: string | null | undefined, count: number): number {
  return guildId ? Number((BigInt(guildId) >> 22n) % BigInt(count)) : 0;
}

/** A gateway session the fake delivered a dispatch to. */
export interface SessionRef {
  sessionId: string;
  shard: [number, number];
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
  shard: [number, number];
}

interface Connection {
  socket: WebSocket;
  session?: Session;
}

const TRACE = ['["fake-gateway",{"micros":0}]'];

export class FakeGateway {
  readonly events: GatewayEvent[] = [];
  private readonly sessions = new Map<string, Session>();
  /** The latest session (identified or resumed) of each `[shard, count]`: the ones dispatches go to. */
  private readonly current = new Map<string, Session>();
  private readonly wss: WebSocketServer;
  /** Sockets the fake itself closed (their close code says nothing about the client's intent). */
  private readonly closedByFake = new WeakSet<WebSocket>();

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
    return this.current.size > 0;
  }

  /** Whether every current session's socket is open and has received READY or RESUMED. */
  get isReady(): boolean {
    const sessions = [...this.current.values()];
    return sessions.length > 0 && sessions.every((s) => Boolean(s.readySocket && s.readySocket === s.socket && s.socket.readyState === WebSocket.OPEN));
  }

  /** The current sessions, each with its shard. */
  get shards(): SessionRef[] {
    return [...this.current.values()].map((s) => ({ sessionId: s.id, shard: s.shard }));
  }

  /**
   * Sends a dispatch to the sessions of the shard `guildId` belongs to (shard 0 without a guild); a session that
   * is reconnecting gets it on its RESUME. Returns the sessions it went to: none when no session serves that shard.
   */
  dispatch(event: string, data: unknown, guildId?: string | null): SessionRef[] {
    if (this.current.size === 0) throw new Error(`Cannot dispatch ${event}: the bot has not identified on the gateway yet.`);
    const targets = [...this.current.values()].filter((s) => shardOf(guildId, s.shard[1]) === s.shard[0]);
    for (const session of targets) this.dispatchTo(session, event, data);
    if (targets.length === 0) {
      this.events.push({ at: Date.now(), kind: 'undelivered', detail: `${event} for guild ${guildId ?? '(none)'}: no session serves its shard` });
      this.host.changed();
    }
    return targets.map((s) => ({ sessionId: s.id, shard: s.shard }));
  }

  private dispatchTo(session: Session, event: string, data: unknown, replayable = true): void {
    const payload: Dispatch = { op: 0, t: event, s: ++session.seq, d: data };
    if (replayable) session.log.push(payload);
    this.events.push({ at: Date.now(), kind: 'dispatch', sessionId: session.id, shard: session.shard, detail: `${event} s=${payload.s}` });
    if (session.readySocket && session.readySocket === session.socket) this.send(session.socket, payload);
    this.host.changed();
  }

  /** Drops the bot's sockets (of every shard, or of one): without a code like a network failure, else with a close frame. */
  async disconnect(code?: number, shard?: number): Promise<void> {
    const sockets = [...this.current.values()].filter((s) => shard === undefined || s.shard[0] === shard).map((s) => s.socket);
    await Promise.all(
      sockets.map(async (socket) => {
        if (!socket) return;
        const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        this.closedByFake.add(socket);
        if (code === undefined || code === 1006) socket.terminate();
        else socket.close(code, 'Disconnected by FakeDiscord');
        await closed;
      }),
    );
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
      const session = conn.session;
      this.events.push({ at: Date.now(), kind: 'close', ...(session ? { sessionId: session.id, shard: session.shard } : {}), detail: String(code) });
      if (session?.socket === socket) {
        session.socket = undefined;
        // A client closing with 1000/1001 ends its session for good (Discord: the bot goes offline, no RESUME);
        // any other loss leaves it resumable, and its dispatches wait for the RESUME.
        if ((code === 1000 || code === 1001) && !this.closedByFake.has(socket)) {
          this.sessions.delete(session.id);
          const key = session.shard.join('/');
          if (this.current.get(key) === session) this.current.delete(key);
        }
      }
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
    const shard: [number, number] = Array.isArray(d.shard) ? [Number(d.shard[0]), Number(d.shard[1])] : [0, 1];
    this.events.push({ at: Date.now(), kind: 'identify', shard, detail: `intents=${String(d.intents)} shard=${shard.join('/')}` });
    if (!this.tokenMatches(d.token)) {
      conn.socket.close(4004, 'Authentication failed.');
      return;
    }
    if (typeof d.intents !== 'number') {
      conn.socket.close(4013, 'Invalid intent(s).');
      return;
    }
    const [shardId, shardCount] = shard;
    if (!Number.isInteger(shardId) || !Number.isInteger(shardCount) || shardCount < 1 || shardId < 0 || shardId >= shardCount) {
      conn.socket.close(4010, 'Invalid shard.');
      return;
    }
    const session: Session = { id: randomBytes(16).toString('hex'), seq: 0, log: [], socket: conn.socket, readySocket: conn.socket, intents: d.intents, shard };
    this.sessions.set(session.id, session);
    conn.session = session;
    this.current.set(shard.join('/'), session);
    // A session hears only about the guilds of its shard.
    const guilds = this.host.guilds().filter((g) => shardOf(g.id, shardCount) === shardId);
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
      shard,
      application: { id: this.host.applicationId, flags: 0 },
      auth: {},
      _trace: TRACE,
    });
    for (const guild of guilds) this.dispatchTo(session, 'GUILD_CREATE', guildCreatePayload(guild, this.host.botUser));
    this.events.push({ at: Date.now(), kind: 'ready', sessionId: session.id, shard });
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
    this.current.set(session.shard.join('/'), session);
    const from = typeof d.seq === 'number' ? d.seq : 0;
    const missed = session.log.filter((p) => p.s > from);
    for (const payload of missed) this.send(conn.socket, payload);
    this.dispatchTo(session, 'RESUMED', { _trace: TRACE }, false);
    this.events.push({ at: Date.now(), kind: 'resumed', sessionId: session.id, shard: session.shard, detail: `replayed ${missed.length} dispatches after seq ${from}` });
    this.host.changed();
  }

  private send(socket: WebSocket | undefined, payload: unknown): void {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(payload));
  }
}
