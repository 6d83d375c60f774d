// Plain Discord API objects (users, guilds, channels, messages, attachments) as the fake serves
// them. Shapes follow the v10 API closely enough that discord.js builds full structures from them.
import { randomBytes } from 'node:crypto';

const DISCORD_EPOCH = 1420070400000n;
let snowflakeIncrement = 0n;

/** A real-looking snowflake: its timestamp bits are `at`, so discord.js derives sensible dates. */
export function snowflake(at: number = Date.now()): string {
  snowflakeIncrement = (snowflakeIncrement + 1n) & 0xfffn;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | (1n << 17n) | snowflakeIncrement).toString();
}

/**
 * A guild id on shard `shard` of `count`: Discord routes a guild to shard (id >> 22) % count, and those bits are
 * the id's timestamp, so the timestamp is nudged until it lands there.
 */
export function guildIdOnShard(shard: number, count: number, at: number = Date.now()): string {
  const ms = BigInt(at) - DISCORD_EPOCH;
  const offset = (BigInt(shard) - (ms % BigInt(count)) + BigInt(count)) % BigInt(count);
  return snowflake(at + Number(offset));
}

export function interactionToken(): string {
  // Real tokens are long opaque base64 strings; the alphabet is URL-path safe.
  return `aW50ZXJhY3Rpb246${randomBytes(48).toString('base64url')}`;
}

export const Permission = {
  CreateInstantInvite: 1n << 0n,
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  UseExternalEmojis: 1n << 18n,
  Connect: 1n << 20n,
  Speak: 1n << 21n,
  ChangeNickname: 1n << 26n,
  UseApplicationCommands: 1n << 31n,
  SendMessagesInThreads: 1n << 38n,
  Administrator: 1n << 3n,
} as const;

/** What @everyone may do in a freshly created server (close to Discord's defaults). */
export const EVERYONE_PERMISSIONS = (
  Permission.CreateInstantInvite |
  Permission.AddReactions |
  Permission.ViewChannel |
  Permission.SendMessages |
  Permission.EmbedLinks |
  Permission.AttachFiles |
  Permission.ReadMessageHistory |
  Permission.UseExternalEmojis |
  Permission.Connect |
  Permission.Speak |
  Permission.ChangeNickname |
  Permission.UseApplicationCommands |
  Permission.SendMessagesInThreads
).toString();

export const BOT_PERMISSIONS = (BigInt(EVERYONE_PERMISSIONS) | Permission.ManageMessages).toString();

export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: string | null;
  public_flags: number;
  bot?: boolean;
  [key: string]: unknown;
}

export interface FakeGuild {
  id: string;
  name: string;
  locale: string;
  ownerId: string;
  joinedAt: string;
  channels: FakeChannel[];
}

export interface FakeChannel {
  id: string;
  guildId: string;
  name: string;
}

export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
  description?: string;
  title?: string;
  width?: number;
  height?: number;
  ephemeral?: boolean;
  [key: string]: unknown;
}

/** Discord's message object; `A` is the attachment shape. */
export interface MessageShape<A extends FakeAttachment = FakeAttachment> {
  id: string;
  type: number;
  channel_id: string;
  guild_id?: string;
  content: string;
  components: Array<Record<string, unknown>>;
  embeds: Array<Record<string, unknown>>;
  attachments: A[];
  author: FakeUser;
  timestamp: string;
  edited_timestamp: string | null;
  flags: number;
  webhook_id?: string;
  application_id?: string;
  interaction_metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A message as the fake stores and returns it. */
export type FakeMessage = MessageShape<FakeAttachment>;

export function userObject(id: string, username?: string): FakeUser {
  return {
    id,
    username: username ?? `user${id.slice(-4)}`,
    global_name: username ? null : `Test User ${id.slice(-4)}`,
    discriminator: '0',
    avatar: null,
    avatar_decoration_data: null,
    public_flags: 0,
    flags: 0,
    banner: null,
    accent_color: null,
    primary_guild: null,
    collectibles: null,
  };
}

export function botUserObject(id: string, username: string): FakeUser {
  return {
    ...userObject(id, username),
    bot: true,
    verified: true,
    mfa_enabled: false,
    email: null,
  };
}

export function channelObject(channel: FakeChannel): Record<string, unknown> {
  return {
    id: channel.id,
    type: 0,
    guild_id: channel.guildId,
    name: channel.name,
    position: 0,
    permission_overwrites: [],
    nsfw: false,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
    parent_id: null,
    flags: 0,
  };
}

/** A DM channel (type 1) with one user. */
export function dmChannelObject(dm: { id: string; recipient: FakeUser }): Record<string, unknown> {
  return { id: dm.id, type: 1, recipients: [dm.recipient], last_message_id: null, flags: 0 };
}

export function everyoneRole(guildId: string): Record<string, unknown> {
  return {
    id: guildId,
    name: '@everyone',
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: 0,
    permissions: EVERYONE_PERMISSIONS,
    managed: false,
    mentionable: false,
    flags: 0,
  };
}

export function memberObject(user: FakeUser, joinedAt: string, permissions?: string): Record<string, unknown> {
  return {
    user,
    roles: [],
    nick: null,
    avatar: null,
    banner: null,
    joined_at: joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    pending: false,
    flags: 0,
    communication_disabled_until: null,
    unusual_dm_activity_until: null,
    ...(permissions === undefined ? {} : { permissions }),
  };
}

/** The guild object without gateway-only fields (GET /guilds/{id}). */
export function guildObject(guild: FakeGuild): Record<string, unknown> {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [everyoneRole(guild.id)],
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: guild.channels[0]?.id ?? null,
    system_channel_flags: 0,
    rules_channel_id: null,
    public_updates_channel_id: null,
    safety_alerts_channel_id: null,
    max_presences: null,
    max_members: 500000,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    premium_progress_bar_enabled: false,
    preferred_locale: guild.locale,
    nsfw_level: 0,
    nsfw: false,
    incidents_data: null,
  };
}

/** GUILD_CREATE: the guild plus the gateway-only fields discord.js reads on a full guild. */
export function guildCreatePayload(guild: FakeGuild, bot: FakeUser): Record<string, unknown> {
  return {
    ...guildObject(guild),
    joined_at: guild.joinedAt,
    large: false,
    unavailable: false,
    member_count: 2,
    members: [memberObject(bot, guild.joinedAt)],
    channels: guild.channels.map((c) => {
      const { guild_id: _omitted, ...rest } = channelObject(c);
      return rest;
    }),
    threads: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
    embedded_activities: [],
    application_command_counts: {},
    lazy: true,
  };
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json',
  mp4: 'video/mp4',
};

export function guessContentType(filename: string, declared: string | undefined): string {
  if (declared && declared !== 'application/octet-stream') return declared;
  const ext = filename.split('.').pop()?.toLowerCase() ?? '';
  return MIME_BY_EXTENSION[ext] ?? declared ?? 'application/octet-stream';
}

/** Width and height of PNG, GIF, JPEG and WebP images, so attachments look like Discord's. */
export function imageSize(bytes: Buffer): { width: number; height: number } | undefined {
  try {
    if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47) {
      return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
    }
    if (bytes.length >= 10 && bytes.toString('ascii', 0, 3) === 'GIF') {
      return { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
    }
    if (bytes.length >= 30 && bytes.toString('ascii', 0, 4) === 'RIFF' && bytes.toString('ascii', 8, 12) === 'WEBP') {
      const chunk = bytes.toString('ascii', 12, 16);
      if (chunk === 'VP8X') return { width: 1 + bytes.readUIntLE(24, 3), height: 1 + bytes.readUIntLE(27, 3) };
      if (chunk === 'VP8 ') return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
      if (chunk === 'VP8L') {
        const bits = bytes.readUInt32LE(21);
        return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
      }
    }
    if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
      let offset = 2;
      while (offset + 9 < bytes.length) {
        if (bytes[offset] !== 0xff) return undefined;
        const marker = bytes[offset + 1] ?? 0;
        const length = bytes.readUInt16BE(offset + 2);
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
          return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
        }
        offset += 2 + length;
      }
    }
  } catch {
    // Truncated or odd images simply get no dimensions.
  }
  return undefined;
}
