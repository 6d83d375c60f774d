// The only reader of process.env. Everything the bot can be told comes through here, validated once at start-up.
import { existsSync } from 'node:fs';
import cron from 'node-cron';
import { z } from 'zod';
import { SPEED_MODES } from './db/schema.ts';

export const PROVIDER_IDS = [
  'simulator',
  'midjourney-proxy',
  'midjourney-node-api',
  'imagineapi',
  'acedata',
  'ttapi',
  'piapi',
  'legnext',
] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const int = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: `must be a whole number from ${min}` })
    .int(`must be a whole number from ${min}`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(def);

/** A duration in minutes; fractions allowed (0.5 = 30 s), down to `min`. */
const minutes = (def: number, min: number) =>
  z.coerce
    .number({ error: `must be a number of minutes from ${min}` })
    .min(min, `must be at least ${min} (minutes; fractions such as 0.5 are allowed)`)
    .default(def);

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** One relay account of UPSTREAM_ACCOUNTS; concurrency and weight fall back to the provider's defaults. */
const accountSchema = z.strictObject({
  id: z.string().regex(/^[\w.-]{1,40}$/, 'id must be 1-40 letters, digits, dots, dashes or underscores').optional(),
  provider: z.enum(PROVIDER_IDS, { error: `provider must be one of ${PROVIDER_IDS.join(', ')}` }),
  baseUrl: httpUrl.optional(),
  apiKey: z.string().min(1).optional(),
  concurrency: z.number().int().min(1).max(100).optional(),
  weight: z.number().int().min(1).max(100).default(1),
  /** Speed modes this account serves; jobs asking for another mode go to other accounts. */
  modes: z.array(z.enum(SPEED_MODES)).min(1).optional(),
});
export type AccountConfig = z.infer<typeof accountSchema>;

const accountList = z
  .string()
  .trim()
  .transform((v, ctx) => {
    if (v === '') return undefined;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON (a list like [{"provider":"ttapi","baseUrl":"…","apiKey":"…"}])' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(accountSchema)
      .min(1, 'must list at least one account')
      .refine((list) => new Set(list.map((a) => a.id).filter(Boolean)).size === list.filter((a) => a.id).length, 'has two accounts with the same id')
      .optional(),
  )
  .optional();

const shardIds = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v.split(',').map((s) => Number(s.trim()))))
  .pipe(z.array(z.number().int('must be comma-separated shard numbers').min(0)).min(1).optional())
  .optional();

const schema = z.object({
  DISCORD_TOKEN: z
    .string({ error: 'is not set' })
    .trim()
    .min(1, 'is empty'),
  DISCORD_API_URL: httpUrl.default('https://discord.com/api').transform((u) => u.replace(/\/+$/, '')),
  DISCORD_GUILD_ID: optionalString.pipe(z.string().regex(/^\d{17,20}$/, 'must be a server (guild) id: 17-20 digits').optional()),
  DATABASE_URL: optionalString.pipe(z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional()),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  HTTP_PORT: int(3000, 0, 65535),
  PUBLIC_URL: optionalString.pipe(httpUrl.optional()),
  UPSTREAM_PROVIDER: z.enum(PROVIDER_IDS, { error: `must be one of ${PROVIDER_IDS.join(', ')}` }).default('simulator'),
  UPSTREAM_BASE_URL: optionalString.pipe(httpUrl.optional()),
  UPSTREAM_API_KEY: optionalString,
  /** How long one request to a relay may take before it counts as unavailable (and is retried). */
  UPSTREAM_TIMEOUT_MS: int(30_000, 1_000),
  /** Several relay accounts sharing the load (JSON list); unset: the single account above. */
  UPSTREAM_ACCOUNTS: accountList,
  /** For relays with one account-wide webhook (ImagineAPI): the secret in the URL set in their dashboard. */
  UPSTREAM_WEBHOOK_SECRET: optionalString.pipe(z.string().min(16, 'must be at least 16 characters (e.g. from `openssl rand -hex 16`)').optional()),
  POLL_INTERVAL_MS: int(3000, 50),
  SIMULATOR_STEP_MS: int(2000, 10),
  PROGRESS_EDIT_INTERVAL_MS: int(3000, 1000),
  BAIDU_APP_ID: optionalString,
  BAIDU_SECRET: optionalString,
  BAIDU_API_URL: httpUrl.default('https://fanyi-api.baidu.com/api/trans/vip/translate'),
  // Baidu's standard tier allows about one request per second; paid tiers allow more.
  BAIDU_QPS: int(1, 1, 100),
  BANNED_WORDS_FILE: optionalString.pipe(z.string().refine((f) => existsSync(f), 'names a file that does not exist').optional()),
  TASK_RETENTION_DAYS: int(30, 1),
  CLEANUP_CRON: z
    .string()
    .trim()
    .refine((v) => v === 'off' || cron.validate(v), 'is not a valid cron expression (e.g. "0 4 * * *" for 04:00 daily) nor "off"')
    .default('0 4 * * *'),
  /** A job its relay has shown no sign of for this long is failed (a relay still listing it, queued at 0 %, keeps it alive). */
  JOB_TIMEOUT_MINUTES: minutes(10, 0.05),
  /** A job still queued after this long is failed instead of started. */
  QUEUE_TIMEOUT_MINUTES: minutes(60, 0.05),
  /** A job running at its relay longer than this (counted from when the relay started it) is failed even if it still reports progress. */
  JOB_MAX_MINUTES: minutes(30, 0.05),
  /** How long a final message (result, failure, cancellation) is retried through Discord trouble before it is given up. */
  DELIVERY_GIVE_UP_MINUTES: minutes(60, 1),
  /** Jobs of one user at the relay at once; the rest wait their turn while other users' jobs go ahead. */
  USER_MAX_CONCURRENT: int(2, 1),
  /** Jobs of one user waiting in the queue; more are refused until some start. */
  USER_MAX_QUEUED: int(10, 1),
  /** Jobs per user per UTC day (0: unlimited); servers may set their own with /draw-admin quota. */
  USER_DAILY_QUOTA: int(100, 0),
  /** Jobs per server per UTC day (0: unlimited); servers may set their own with /draw-admin quota. */
  GUILD_DAILY_QUOTA: int(0, 0),
  /** What one video job (Animate, a clip pick, Extend) counts toward the daily quotas: about Midjourney's GPU-time ratio. */
  VIDEO_QUOTA_WEIGHT: int(8, 1, 100),
  /** TTApi's Animate resolution (`resolution` of /midjourney/video/submit): sd (its default) or hd (costs more quota). */
  TTAPI_VIDEO_RESOLUTION: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() || undefined : v), z.enum(['sd', 'hd'], { error: 'must be sd or hd' }).default('sd')),
  /** Sharding: how many shards the bot has in all, and which of them this process runs (default: all). */
  SHARD_COUNT: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.coerce.number().int('must be a whole number').min(1).max(1000).optional()),
  SHARD_IDS: shardIds,
  BOT_OWNER_IDS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((id) => id.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^\d{17,20}$/, 'must be comma-separated Discord user ids (17-20 digits each)'))),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
}).superRefine((c, ctx) => {
  // One Baidu credential without the other is a typo, not a choice: say so instead of silently not translating.
  if (c.SHARD_IDS && !c.SHARD_COUNT) ctx.addIssue({ code: 'custom', path: ['SHARD_COUNT'], message: 'is not set — SHARD_IDS needs the total number of shards' });
  if (c.SHARD_IDS && c.SHARD_COUNT && c.SHARD_IDS.some((id) => id >= c.SHARD_COUNT!)) {
    ctx.addIssue({ code: 'custom', path: ['SHARD_IDS'], message: `must be below SHARD_COUNT (${c.SHARD_COUNT})` });
  }
  if (Boolean(c.BAIDU_APP_ID) !== Boolean(c.BAIDU_SECRET)) {
    const missing = c.BAIDU_APP_ID ? 'BAIDU_SECRET' : 'BAIDU_APP_ID';
    ctx.addIssue({ code: 'custom', path: [missing], message: 'is not set — set both BAIDU_APP_ID and BAIDU_SECRET, or neither' });
  }
});

export type Config = z.infer<typeof schema>;
/** Every variable the bot reads (README's table and .env.example must list each one). */
export const CONFIG_KEYS = Object.keys(schema.shape) as Array<keyof Config>;

/** What `npm run purge` needs: the database and the retention (same rules), not the Discord token. */
const { DATABASE_URL, DATA_DIR, TASK_RETENTION_DAYS, LOG_LEVEL } = schema.shape;
const maintenanceSchema = z.object({ DATABASE_URL, DATA_DIR, TASK_RETENTION_DAYS, LOG_LEVEL });
export type MaintenanceConfig = z.infer<typeof maintenanceSchema>;

/** A configuration problem the operator must fix; main prints its message alone, without a stack trace. */
export class ConfigError extends Error {}

const HINTS: Partial<Record<keyof Config, string>> = {
  DISCORD_TOKEN:
    'put your bot token in .env as DISCORD_TOKEN=... (Discord Developer Portal → your application → Bot → Reset Token; see README)',
  BAIDU_APP_ID: 'both are under 开发者信息 at https://fanyi-api.baidu.com (see README → Chinese prompts)',
  BAIDU_SECRET: 'both are under 开发者信息 at https://fanyi-api.baidu.com (see README → Chinese prompts)',
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env, envFile = '.env'): Config {
  return parseEnv(schema, env, envFile);
}

/** The subset of the configuration the maintenance CLI reads, validated by the same rules. */
export function loadMaintenanceConfig(env: NodeJS.ProcessEnv = process.env, envFile = '.env'): MaintenanceConfig {
  return parseEnv(maintenanceSchema, env, envFile);
}

function parseEnv<S extends z.ZodObject>(shape: S, env: NodeJS.ProcessEnv, envFile: string): z.infer<S> {
  // A .env file fills in what the real environment does not set (the environment wins).
  if (env === process.env && existsSync(envFile)) process.loadEnvFile(envFile);
  const parsed = shape.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const name = String(issue.path[0]) as keyof Config;
  const hint = HINTS[name];
  throw new ConfigError(`Configuration error: ${name} ${issue.message}${hint ? ` — ${hint}` : ''}.`);
}
