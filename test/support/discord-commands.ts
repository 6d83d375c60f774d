// Application commands in the fake Discord: how registrations are stored, and how a test's
// slash command input becomes the `data` Discord sends (typed from the registered definition,
// refusing values the Discord client would not let a user enter).
import { EVERYONE_PERMISSIONS, memberObject, snowflake, userObject, type FakeAttachment, type FakeChannel } from './discord-objects.ts';

export type RegisteredCommand = Record<string, unknown> & {
  id: string;
  name: string;
  type: number;
  application_id: string;
  guild_id?: string;
  options?: Array<Record<string, unknown>>;
  name_localizations?: Record<string, string> | null;
};

export interface FakeUpload {
  filename: string;
  bytes: Buffer | Uint8Array;
  contentType?: string;
}

export type OptionValue = string | number | boolean | FakeUpload;

export interface RawCommandOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: RawCommandOption[];
  focused?: boolean;
}

export interface CommandOptionsInput {
  subcommandGroup?: string;
  subcommand?: string;
  /** `{prompt: 'a cat'}` (typed from the registered command) or raw API options. */
  options?: Record<string, OptionValue> | RawCommandOption[];
  /** Send values the Discord client would refuse (over max_length, outside choices, missing required). */
  unchecked?: boolean;
}

/** Where option values point: the invoking channel, other channels, uploaded attachments. */
export interface OptionPlaces {
  channel: FakeChannel;
  channelById(id: string): FakeChannel | undefined;
  storeAttachment(file: { filename: string; bytes: Buffer; contentType?: string | undefined }): FakeAttachment;
}

/** The stored form of a command; a command that keeps its name and type keeps its id (bulk overwrite). */
export function toRegisteredCommand(input: Record<string, unknown>, store: RegisteredCommand[], guildId: string | undefined, applicationId: string): RegisteredCommand {
  const type = Number(input.type ?? 1);
  const name = String(input.name);
  const existing = store.find((c) => c.name === name && c.type === type);
  const perms = input.default_member_permissions;
  return {
    id: existing?.id ?? snowflake(),
    application_id: applicationId,
    version: snowflake(),
    type,
    name,
    name_localizations: (input.name_localizations as Record<string, string> | undefined) ?? null,
    description: typeof input.description === 'string' ? input.description : '',
    description_localizations: input.description_localizations ?? null,
    default_member_permissions: perms === undefined || perms === null ? null : String(perms),
    dm_permission: input.dm_permission ?? true,
    contexts: input.contexts ?? null,
    integration_types: input.integration_types ?? [0],
    nsfw: input.nsfw ?? false,
    ...(Array.isArray(input.options) ? { options: structuredClone(input.options) as Array<Record<string, unknown>> } : {}),
    ...(guildId ? { guild_id: guildId } : {}),
  };
}

/** The chat input command a user in `locale` finds by `name` (or its localized name). */
export function findChatInputCommand(registered: RegisteredCommand[], name: string, guildId: string, locale: string | undefined): RegisteredCommand {
  const candidates = registered.filter((c) => c.type === 1);
  const command =
    candidates.find((c) => c.name === name) ??
    candidates.find((c) => locale !== undefined && c.name_localizations?.[locale] === name);
  if (!command) {
    const known = candidates.map((c) => `/${c.name}`).join(', ') || 'none';
    throw new Error(`No chat input command "${name}" is registered for guild ${guildId} (registered: ${known}). Discord would not offer it.`);
  }
  return command;
}

/** Turns a test's `{name: value}` options into the API's option tree (with `resolved` data). */
export function buildCommandOptions(
  command: RegisteredCommand,
  input: CommandOptionsInput,
  places: OptionPlaces,
): { options: RawCommandOption[]; resolved: Record<string, Record<string, unknown>> } {
  const resolved: Record<string, Record<string, unknown>> = {};
  if (Array.isArray(input.options)) return { options: input.options, resolved };
  let defs = (command.options ?? []) as Array<Record<string, unknown>>;
  const wrap: Array<(inner: RawCommandOption[]) => RawCommandOption> = [];
  const descend = (name: string | undefined, type: 1 | 2) => {
    if (name === undefined) return;
    const def = defs.find((d) => d.name === name && d.type === type);
    if (!def) throw new Error(`/${command.name} has no ${type === 2 ? 'subcommand group' : 'subcommand'} "${name}".`);
    defs = (def.options ?? []) as Array<Record<string, unknown>>;
    wrap.push((inner) => ({ name, type, options: inner }));
  };
  descend(input.subcommandGroup, 2);
  descend(input.subcommand, 1);
  if (wrap.length === 0 && defs.some((d) => d.type === 1 || d.type === 2)) {
    throw new Error(`/${command.name} has subcommands; pass \`subcommand\`.`);
  }

  // What the Discord client enforces; `unchecked` lets a test forge a payload past it.
  const refuse = (message: string) => {
    if (!input.unchecked) throw new Error(`${message} (the Discord client would not send this; pass unchecked: true to forge it)`);
  };
  const given = input.options ?? {};
  const options: RawCommandOption[] = [];
  for (const [name, value] of Object.entries(given)) {
    const def = defs.find((d) => d.name === name);
    if (!def) refuse(`/${command.name} has no option "${name}" (options: ${defs.map((d) => d.name).join(', ') || 'none'})`);
    const typed = def ?? { name, type: typeof value === 'number' ? 10 : typeof value === 'boolean' ? 5 : 3 };
    options.push({ name, type: Number(typed.type), value: optionValue(command.name, typed, value, resolved, places, refuse) });
  }
  for (const def of defs) {
    if (def.required === true && !(String(def.name) in given)) refuse(`/${command.name} option "${String(def.name)}" is required`);
  }
  const nested = wrap.reduceRight<RawCommandOption[]>((inner, make) => [make(inner)], options);
  return { options: nested, resolved };
}

/** Converts a test's option value to what Discord sends, refusing values the Discord client would not allow. */
function optionValue(
  commandName: string,
  def: Record<string, unknown>,
  value: OptionValue,
  resolved: Record<string, Record<string, unknown>>,
  places: OptionPlaces,
  refuse: (message: string) => void,
): string | number | boolean {
  const name = `/${commandName} ${String(def.name)}`;
  const type = Number(def.type);
  const choices = Array.isArray(def.choices) ? (def.choices as Array<{ value: unknown }>) : undefined;
  if (choices && !choices.some((c) => c.value === value)) {
    refuse(`${name} only accepts its choices (${choices.map((c) => JSON.stringify(c.value)).join(', ')})`);
  }
  switch (type) {
    case 3: {
      if (typeof value !== 'string') throw new Error(`${name} is a string option.`);
      if (typeof def.max_length === 'number' && value.length > def.max_length) refuse(`${name} allows at most ${def.max_length} characters`);
      if (typeof def.min_length === 'number' && value.length < def.min_length) refuse(`${name} needs at least ${def.min_length} characters`);
      return value;
    }
    case 4:
    case 10: {
      if (typeof value !== 'number' || (type === 4 && !Number.isInteger(value))) throw new Error(`${name} is ${type === 4 ? 'an integer' : 'a number'} option.`);
      if (typeof def.min_value === 'number' && value < def.min_value) refuse(`${name} must be ≥ ${def.min_value}`);
      if (typeof def.max_value === 'number' && value > def.max_value) refuse(`${name} must be ≤ ${def.max_value}`);
      return value;
    }
    case 5:
      if (typeof value !== 'boolean') throw new Error(`${name} is a boolean option.`);
      return value;
    case 6:
    case 9: {
      const id = String(value);
      const user = userObject(id);
      (resolved.users ??= {})[id] = user;
      const { user: _user, ...member } = memberObject(user, new Date().toISOString(), EVERYONE_PERMISSIONS);
      (resolved.members ??= {})[id] = member;
      return id;
    }
    case 7: {
      const target = places.channelById(String(value)) ?? places.channel;
      (resolved.channels ??= {})[target.id] = { id: target.id, name: target.name, type: 0, permissions: EVERYONE_PERMISSIONS };
      return target.id;
    }
    case 8: {
      const id = String(value);
      (resolved.roles ??= {})[id] = { id, name: `role-${id.slice(-4)}`, color: 0, hoist: false, position: 1, permissions: '0', managed: false, mentionable: false, flags: 0 };
      return id;
    }
    case 11: {
      if (typeof value !== 'object' || value === null || !('bytes' in value)) throw new Error(`${name} is an attachment option: pass {filename, bytes}.`);
      const bytes = Buffer.from(value.bytes);
      const attachment = places.storeAttachment({ filename: value.filename, bytes, contentType: value.contentType });
      (resolved.attachments ??= {})[attachment.id] = { ...attachment, ephemeral: true };
      return attachment.id;
    }
    default:
      if (typeof value === 'object') throw new Error(`${name}: unsupported option value.`);
      return value;
  }
}
