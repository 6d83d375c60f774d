// Request-body validation for the fake Discord: the official schemas from `discord-api-spec/zod`
// plus the Discord limits the OpenAPI description does not capture (message content, component
// layout, command naming, locales, file counts).
import * as spec from 'discord-api-spec/zod';
import * as z from 'zod/mini';

// zod/mini ships without messages ("Invalid input"); English messages make violations readable.
z.config(z.locales.en());

export type IssuePath = Array<string | number>;

export interface Issue {
  path: IssuePath;
  message: string;
  /** Discord-style error code for the `errors` tree of a 50035 answer, e.g. BASE_TYPE_MAX_LENGTH. */
  code: string;
  /** Set when Discord answers with its own JSON error code instead of 50035 (e.g. 50006 empty message). */
  jsonCode?: number;
}

type Schema = z.ZodMiniType;

/** The request schemas per route, as the OpenAPI description names them. */
export const schemas = {
  commandsOverwrite: z.nullable(z.array(spec.ApplicationCommandUpdateRequestSchema).check(z.maxLength(130))),
  commandCreate: spec.ApplicationCommandCreateRequestSchema,
  interactionCallback: z.union([
    spec.ApplicationCommandAutocompleteCallbackRequestSchema,
    spec.CreateMessageInteractionCallbackRequestSchema,
    spec.LaunchActivityInteractionCallbackRequestSchema,
    spec.ModalInteractionCallbackRequestSchema,
    spec.PongInteractionCallbackRequestSchema,
    spec.SocialLayerSKUPurchaseEligibilityInteractionCallbackRequestSchema,
    spec.UpdateMessageInteractionCallbackRequestSchema,
  ]),
  webhookExecute: z.union([spec.IncomingWebhookRequestPartialSchema, spec.IncomingWebhookUpdateRequestPartialSchema]),
  webhookMessageEdit: spec.IncomingWebhookUpdateRequestPartialSchema,
  channelMessageCreate: spec.MessageCreateRequestSchema,
  channelMessageEdit: spec.MessageEditRequestPartialSchema,
  // Not in discord-api-spec's OpenAPI description (nor discord-api-types): Discord's `POST /attachments/refresh-urls`
  // as its docs and client libraries give it (Oceanic: Routes.REFRESH_ATTACHMENT_URLS, RawRefreshAttachmentURLsResponse
  // `{refreshed_urls: [{original, refreshed}]}`): up to 50 links per request.
  attachmentsRefresh: z.object({ attachment_urls: z.array(z.string().check(z.minLength(1))).check(z.minLength(1), z.maxLength(50)) }),
} satisfies Record<string, Schema>;

export const MESSAGE_CONTENT_MAX = 2000;
export const MAX_ATTACHMENTS = 10;
const FLAG_IS_COMPONENTS_V2 = 1 << 15;
const BUTTON = 2;
const SELECT_TYPES = new Set([3, 5, 6, 7, 8]);
const TEXT_INPUT = 4;
const CHAT_INPUT = 1;
// Discord's documented pattern for CHAT_INPUT command and option names.
const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

export function formatPath(path: IssuePath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out || '(body)';
}

export function formatIssue(issue: Issue): string {
  return `${formatPath(issue.path)}: ${issue.message}`;
}

// ---------------------------------------------------------------------------------------------
// Schema validation

interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  errors?: ZodIssueLike[][];
  origin?: string;
  maximum?: number | bigint;
  minimum?: number | bigint;
}

/** Validates `value` against an official schema and returns readable issues (empty when valid). */
export function schemaIssues(schema: Schema, value: unknown, prefix: IssuePath = []): Issue[] {
  const result = schema.safeParse(value);
  if (result.success) return [];
  return flattenZodIssues(result.error.issues as unknown as ZodIssueLike[], prefix);
}

function flattenZodIssues(issues: ZodIssueLike[], prefix: IssuePath): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
    if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
      // A union fails in every branch; report the branch the payload was evidently aiming for
      // (the one whose `type` discriminator matched), else the branch with the fewest problems.
      const branches = issue.errors.map((branch) => flattenZodIssues(branch, path));
      const typeMatched = branches.filter(
        (branch) => !branch.some((i) => i.path.length === path.length + 1 && i.path.at(-1) === 'type'),
      );
      const pool = typeMatched.length > 0 ? typeMatched : branches;
      const best = pool.reduce((a, b) => (b.length < a.length ? b : a));
      out.push(...best);
      continue;
    }
    out.push({ path, message: issue.message, code: discordCodeFor(issue) });
  }
  return out;
}

function discordCodeFor(issue: ZodIssueLike): string {
  switch (issue.code) {
    case 'too_big':
      return issue.origin === 'number' || issue.origin === 'int' ? 'NUMBER_TYPE_MAX' : 'BASE_TYPE_MAX_LENGTH';
    case 'too_small':
      return issue.origin === 'number' || issue.origin === 'int' ? 'NUMBER_TYPE_MIN' : 'BASE_TYPE_MIN_LENGTH';
    case 'invalid_type':
      return /received undefined/.test(issue.message) ? 'BASE_TYPE_REQUIRED' : 'BASE_TYPE_BAD_TYPE';
    case 'invalid_value':
      return 'BASE_TYPE_CHOICES';
    default:
      return 'BASE_TYPE_INVALID';
  }
}

// ---------------------------------------------------------------------------------------------
// Known gaps between the OpenAPI description and what Discord (and discord.js) really send.

/**
 * The spec types `default_member_permissions` as a number, but Discord documents (and discord.js
 * sends) a string of digits. Validate the numeric value instead of flagging every command.
 */
export function normalizeCommandForSchema(command: unknown): unknown {
  if (!isRecord(command)) return command;
  const perms = command.default_member_permissions;
  if (typeof perms === 'string' && /^\d+$/.test(perms)) return { ...command, default_member_permissions: Number(perms) };
  return command;
}

// ---------------------------------------------------------------------------------------------
// Message limits

export interface MessageCheckContext {
  /** Multipart field names of uploaded files, e.g. `files[0]`. */
  fileKeys?: string[];
  /** Attachment ids already on the message being edited (they may be kept by id). */
  existingAttachmentIds?: Set<string>;
  /** True when the payload creates a message (so it must not be empty). */
  creates?: boolean;
}

export function messageIssues(body: unknown, ctx: MessageCheckContext = {}, prefix: IssuePath = []): Issue[] {
  const issues: Issue[] = [];
  if (!isRecord(body)) return issues;
  const at = (...p: IssuePath): IssuePath => [...prefix, ...p];
  const flags = typeof body.flags === 'number' ? body.flags : 0;
  const isV2 = (flags & FLAG_IS_COMPONENTS_V2) !== 0;

  if (typeof body.content === 'string' && body.content.length > MESSAGE_CONTENT_MAX) {
    issues.push(maxLength(at('content'), MESSAGE_CONTENT_MAX));
  }
  if (Array.isArray(body.embeds)) issues.push(...embedIssues(body.embeds, at('embeds')));

  if (Array.isArray(body.components)) {
    if (isV2) {
      const total = countComponents(body.components);
      if (total > 40) issues.push({ path: at('components'), code: 'BASE_TYPE_MAX_LENGTH', message: `A message may hold at most 40 components in total (got ${total}).` });
      if (typeof body.content === 'string' && body.content.length > 0) {
        issues.push({ path: at('content'), code: 'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2', message: 'content cannot be used with the IS_COMPONENTS_V2 flag.' });
      }
      if (Array.isArray(body.embeds) && body.embeds.length > 0) {
        issues.push({ path: at('embeds'), code: 'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2', message: 'embeds cannot be used with the IS_COMPONENTS_V2 flag.' });
      }
    } else {
      if (body.components.length > 5) issues.push(maxLength(at('components'), 5));
      body.components.forEach((row, i) => {
        if (isRecord(row) && row.type !== 1) {
          issues.push({ path: at('components', i, 'type'), code: 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', message: `Top-level components must be action rows (type 1) unless the IS_COMPONENTS_V2 flag is set (got type ${String(row.type)}).` });
        }
      });
    }
    issues.push(...componentIssues(body.components, at('components')));
    issues.push(...duplicateCustomIds(body.components, at('components')));
  }

  const fileKeys = ctx.fileKeys ?? [];
  if (fileKeys.length > MAX_ATTACHMENTS) {
    issues.push({ path: at('files'), code: 'BASE_TYPE_MAX_LENGTH', message: `At most ${MAX_ATTACHMENTS} files per message (got ${fileKeys.length}).` });
  }
  if (Array.isArray(body.attachments)) {
    const uploadedIds = new Set(fileKeys.map(fileIndexOf).filter((x): x is string => x !== undefined));
    body.attachments.forEach((att, i) => {
      if (!isRecord(att) || typeof att.id !== 'string' && typeof att.id !== 'number') return;
      const id = String(att.id);
      if (!uploadedIds.has(id) && !ctx.existingAttachmentIds?.has(id)) {
        issues.push({ path: at('attachments', i, 'id'), code: 'ATTACHMENT_NOT_FOUND', message: `Attachment id ${id} is neither an uploaded files[${id}] nor an attachment already on the message.` });
      }
    });
  }

  if (ctx.creates && isEmptyMessage(body, fileKeys.length)) {
    issues.push({ path: at(), code: 'EMPTY_MESSAGE', message: 'Cannot send an empty message', jsonCode: 50006 });
  }
  return issues;
}

/** The `n` of a `files[n]` multipart field name. */
export function fileIndexOf(fieldName: string): string | undefined {
  return /^files\[(\d+)\]$/.exec(fieldName)?.[1] ?? /^file(\d*)$/.exec(fieldName)?.[1];
}

export function isEmptyMessage(body: Record<string, unknown>, fileCount: number): boolean {
  const nonEmpty = (v: unknown): boolean => (typeof v === 'string' ? v.length > 0 : Array.isArray(v) ? v.length > 0 : v != null);
  return !(
    nonEmpty(body.content) ||
    nonEmpty(body.embeds) ||
    nonEmpty(body.components) ||
    nonEmpty(body.sticker_ids) ||
    nonEmpty(body.poll) ||
    nonEmpty(body.attachments) ||
    fileCount > 0
  );
}

function embedIssues(embeds: unknown[], path: IssuePath): Issue[] {
  const issues: Issue[] = [];
  let total = 0;
  const text = (v: unknown): number => (typeof v === 'string' ? v.length : 0);
  embeds.forEach((embed, i) => {
    if (!isRecord(embed)) return;
    const limit = (value: unknown, max: number, ...p: IssuePath) => {
      if (text(value) > max) issues.push(maxLength([...path, i, ...p], max));
      total += text(value);
    };
    limit(embed.title, 256, 'title');
    limit(embed.description, 4096, 'description');
    if (isRecord(embed.footer)) limit(embed.footer.text, 2048, 'footer', 'text');
    if (isRecord(embed.author)) limit(embed.author.name, 256, 'author', 'name');
    if (Array.isArray(embed.fields)) {
      if (embed.fields.length > 25) issues.push(maxLength([...path, i, 'fields'], 25));
      embed.fields.forEach((field, j) => {
        if (!isRecord(field)) return;
        limit(field.name, 256, 'fields', j, 'name');
        limit(field.value, 1024, 'fields', j, 'value');
      });
    }
  });
  if (total > 6000) issues.push({ path, code: 'MAX_EMBED_SIZE_EXCEEDED', message: `Embed size exceeds maximum size of 6000 (got ${total}).` });
  return issues;
}

function componentIssues(components: unknown[], path: IssuePath): Issue[] {
  return components.flatMap((component, i) => (isRecord(component) ? oneComponentIssues(component, [...path, i]) : []));
}

function oneComponentIssues(component: Record<string, unknown>, here: IssuePath): Issue[] {
  const issues: Issue[] = [];
  if (component.type === 1 && Array.isArray(component.components)) {
    const children = component.components.filter(isRecord);
    const buttons = children.filter((c) => c.type === BUTTON).length;
    const selects = children.filter((c) => SELECT_TYPES.has(Number(c.type))).length;
    if (buttons > 5) issues.push({ path: [...here, 'components'], code: 'BASE_TYPE_MAX_LENGTH', message: `An action row holds at most 5 buttons (got ${buttons}).` });
    if (selects > 0 && children.length > 1) {
      issues.push({ path: [...here, 'components'], code: 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', message: 'A select menu must be alone in its action row.' });
    }
  }
  if (component.type === BUTTON) issues.push(...buttonIssues(component, here));
  if (SELECT_TYPES.has(Number(component.type))) issues.push(...selectIssues(component, here));
  if (component.type === TEXT_INPUT) issues.push(...customIdIssues(component.custom_id, [...here, 'custom_id'], true));
  // Nested layouts: action rows, components V2 containers and sections, modal labels.
  if (Array.isArray(component.components)) issues.push(...componentIssues(component.components, [...here, 'components']));
  if (isRecord(component.accessory)) issues.push(...oneComponentIssues(component.accessory, [...here, 'accessory']));
  if (isRecord(component.component)) issues.push(...oneComponentIssues(component.component, [...here, 'component']));
  return issues;
}

function buttonIssues(button: Record<string, unknown>, path: IssuePath): Issue[] {
  const issues: Issue[] = [];
  const style = Number(button.style);
  if (typeof button.label === 'string' && button.label.length > 80) issues.push(maxLength([...path, 'label'], 80));
  if (style === 5) {
    if (typeof button.url !== 'string') issues.push(required([...path, 'url'], 'A link button (style 5) needs a url.'));
    if (button.custom_id != null) issues.push({ path: [...path, 'custom_id'], code: 'BUTTON_CANNOT_HAVE_CUSTOM_ID', message: 'A link button cannot have a custom_id.' });
  } else if (style === 6) {
    if (button.sku_id == null) issues.push(required([...path, 'sku_id'], 'A premium button (style 6) needs a sku_id.'));
  } else {
    issues.push(...customIdIssues(button.custom_id, [...path, 'custom_id'], true));
    if (button.url != null) issues.push({ path: [...path, 'url'], code: 'BUTTON_CANNOT_HAVE_URL', message: 'Only link buttons (style 5) can have a url.' });
  }
  if (style !== 6 && !(typeof button.label === 'string' && button.label.length > 0) && button.emoji == null) {
    issues.push(required([...path, 'label'], 'A button needs a label or an emoji.'));
  }
  return issues;
}

function selectIssues(select: Record<string, unknown>, path: IssuePath): Issue[] {
  const issues = customIdIssues(select.custom_id, [...path, 'custom_id'], true);
  if (typeof select.placeholder === 'string' && select.placeholder.length > 150) issues.push(maxLength([...path, 'placeholder'], 150));
  if (select.type === 3) {
    const options = Array.isArray(select.options) ? select.options : [];
    if (options.length < 1 || options.length > 25) {
      issues.push({ path: [...path, 'options'], code: 'BASE_TYPE_BAD_LENGTH', message: `A string select needs 1–25 options (got ${options.length}).` });
    }
    options.forEach((opt, j) => {
      if (!isRecord(opt)) return;
      for (const key of ['label', 'value', 'description'] as const) {
        const v = opt[key];
        if (typeof v === 'string' && v.length > 100) issues.push(maxLength([...path, 'options', j, key], 100));
      }
    });
    if (typeof select.max_values === 'number' && select.max_values > options.length) {
      issues.push({ path: [...path, 'max_values'], code: 'NUMBER_TYPE_MAX', message: `max_values (${select.max_values}) exceeds the number of options (${options.length}).` });
    }
  }
  return issues;
}

function customIdIssues(customId: unknown, path: IssuePath, requiredField: boolean): Issue[] {
  if (customId == null) return requiredField ? [required(path, 'custom_id is required.')] : [];
  if (typeof customId !== 'string') return [{ path, code: 'BASE_TYPE_BAD_TYPE', message: 'custom_id must be a string.' }];
  if (customId.length < 1 || customId.length > 100) {
    return [{ path, code: 'BASE_TYPE_BAD_LENGTH', message: `custom_id must be 1–100 characters (got ${customId.length}).` }];
  }
  return [];
}

function duplicateCustomIds(components: unknown[], path: IssuePath): Issue[] {
  const seen = new Set<string>();
  const issues: Issue[] = [];
  walkComponents(components, (c) => {
    if (typeof c.custom_id !== 'string') return;
    if (seen.has(c.custom_id)) issues.push({ path, code: 'COMPONENT_CUSTOM_ID_DUPLICATED', message: `custom_id "${c.custom_id}" is used more than once in this message.` });
    seen.add(c.custom_id);
  });
  return issues;
}

function countComponents(components: unknown[]): number {
  let n = 0;
  walkComponents(components, () => void n++);
  return n;
}

export function walkComponents(components: unknown, visit: (component: Record<string, unknown>) => void): void {
  if (!Array.isArray(components)) return;
  for (const c of components) {
    if (!isRecord(c)) continue;
    visit(c);
    walkComponents(c.components, visit);
    if (isRecord(c.accessory)) walkComponents([c.accessory], visit);
    if (isRecord(c.component)) walkComponents([c.component], visit);
  }
}

// ---------------------------------------------------------------------------------------------
// Modals

export function modalIssues(data: unknown, prefix: IssuePath): Issue[] {
  if (!isRecord(data) || !Array.isArray(data.components)) return [];
  const issues = componentIssues(data.components, [...prefix, 'components']);
  issues.push(...duplicateCustomIds(data.components, [...prefix, 'components']));
  return issues;
}

// ---------------------------------------------------------------------------------------------
// Application commands

export function isValidLocale(key: string): boolean {
  return spec.AvailableLocalesEnumSchema.safeParse(key).success;
}

export function commandListIssues(commands: unknown[]): Issue[] {
  const issues: Issue[] = [];
  const seen = new Set<string>();
  let chatInputCount = 0;
  commands.forEach((command, i) => {
    issues.push(...commandIssues(command, [i]));
    if (!isRecord(command)) return;
    const type = Number(command.type ?? CHAT_INPUT);
    if (type === CHAT_INPUT) chatInputCount++;
    const key = `${type}:${String(command.name)}`;
    if (seen.has(key)) issues.push({ path: [i, 'name'], code: 'APPLICATION_COMMANDS_DUPLICATE_NAME', message: `Application command names must be unique (duplicate "${String(command.name)}").` });
    seen.add(key);
  });
  if (chatInputCount > 100) issues.push({ path: [], code: 'BASE_TYPE_MAX_LENGTH', message: `At most 100 chat input commands (got ${chatInputCount}).` });
  return issues;
}

export function commandIssues(command: unknown, path: IssuePath): Issue[] {
  if (!isRecord(command)) return [];
  const issues: Issue[] = [];
  const type = Number(command.type ?? CHAT_INPUT);
  const chatInput = type === CHAT_INPUT;
  issues.push(...nameIssues(command.name, [...path, 'name'], chatInput));
  issues.push(...localizationIssues(command.name_localizations, [...path, 'name_localizations'], (v, p) => nameIssues(v, p, chatInput)));
  if (chatInput) {
    issues.push(...descriptionIssues(command.description, [...path, 'description']));
  } else if (typeof command.description === 'string' && command.description.length > 0) {
    issues.push({ path: [...path, 'description'], code: 'APPLICATION_COMMAND_DESCRIPTION_MUST_BE_EMPTY', message: 'User and message commands must have an empty description.' });
  }
  issues.push(...localizationIssues(command.description_localizations, [...path, 'description_localizations'], descriptionIssues));
  if (Array.isArray(command.options)) issues.push(...optionListIssues(command.options, [...path, 'options'], 0));
  const size = commandTextSize(command);
  if (size > 4000) issues.push({ path, code: 'APPLICATION_COMMAND_TOO_LARGE', message: `Command name, description and option texts total ${size} characters (limit 4000).` });
  return issues;
}

function optionListIssues(options: unknown[], path: IssuePath, depth: number): Issue[] {
  const issues: Issue[] = [];
  if (options.length > 25) issues.push(maxLength(path, 25));
  const names = new Set<string>();
  let sawOptional = false;
  const kinds = new Set<'sub' | 'value'>();
  options.forEach((option, i) => {
    if (!isRecord(option)) return;
    const here = [...path, i];
    const type = Number(option.type);
    const isSub = type === 1 || type === 2;
    kinds.add(isSub ? 'sub' : 'value');
    issues.push(...nameIssues(option.name, [...here, 'name'], true));
    issues.push(...localizationIssues(option.name_localizations, [...here, 'name_localizations'], (v, p) => nameIssues(v, p, true)));
    issues.push(...descriptionIssues(option.description, [...here, 'description']));
    issues.push(...localizationIssues(option.description_localizations, [...here, 'description_localizations'], descriptionIssues));
    if (typeof option.name === 'string') {
      if (names.has(option.name)) issues.push({ path: [...here, 'name'], code: 'APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME', message: `Option names must be unique (duplicate "${option.name}").` });
      names.add(option.name);
    }
    if (!isSub) {
      if (option.required === true && sawOptional) {
        issues.push({ path: [...here, 'required'], code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', message: 'Required options must be placed before non-required options.' });
      }
      if (option.required !== true) sawOptional = true;
    }
    if (type === 2 && depth > 0) issues.push({ path: [...here, 'type'], code: 'BASE_TYPE_INVALID', message: 'A subcommand group cannot be nested.' });
    if (type === 1 && depth > 1) issues.push({ path: [...here, 'type'], code: 'BASE_TYPE_INVALID', message: 'Subcommands nest at most one group deep.' });
    if (Array.isArray(option.choices)) {
      if (option.autocomplete === true) issues.push({ path: [...here, 'autocomplete'], code: 'BASE_TYPE_INVALID', message: 'autocomplete cannot be combined with choices.' });
      option.choices.forEach((choice, j) => {
        if (!isRecord(choice)) return;
        const cp = [...here, 'choices', j];
        if (typeof choice.name !== 'string' || choice.name.length < 1 || choice.name.length > 100) {
          issues.push({ path: [...cp, 'name'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Choice names must be 1–100 characters.' });
        }
        issues.push(...localizationIssues(choice.name_localizations, [...cp, 'name_localizations'], (v, p) =>
          typeof v === 'string' && v.length >= 1 && v.length <= 100 ? [] : [{ path: p, code: 'BASE_TYPE_BAD_LENGTH', message: 'Localized choice names must be 1–100 characters.' }],
        ));
        if (typeof choice.value === 'string' && choice.value.length > 100) issues.push(maxLength([...cp, 'value'], 100));
      });
    }
    if (Array.isArray(option.options)) {
      if (!isSub) issues.push({ path: [...here, 'options'], code: 'BASE_TYPE_INVALID', message: 'Only subcommands and groups can have options.' });
      issues.push(...optionListIssues(option.options, [...here, 'options'], depth + 1));
      if (type === 2 && option.options.some((o) => isRecord(o) && o.type !== 1)) {
        issues.push({ path: [...here, 'options'], code: 'BASE_TYPE_INVALID', message: 'A subcommand group may only contain subcommands.' });
      }
    }
  });
  if (kinds.size > 1) issues.push({ path, code: 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', message: 'Subcommands and groups cannot be mixed with other options.' });
  return issues;
}

function nameIssues(name: unknown, path: IssuePath, chatInput: boolean): Issue[] {
  if (typeof name !== 'string') return [required(path, 'name is required.')];
  if (name.length < 1 || name.length > 32) return [{ path, code: 'BASE_TYPE_BAD_LENGTH', message: `Names must be 1–32 characters (got ${name.length}).` }];
  if (!chatInput) return [];
  if (!COMMAND_NAME.test(name)) return [{ path, code: 'APPLICATION_COMMAND_INVALID_NAME', message: `"${name}" does not match ^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$.` }];
  if (name !== name.toLowerCase()) return [{ path, code: 'APPLICATION_COMMAND_INVALID_NAME', message: `"${name}" must be lower-case.` }];
  return [];
}

function descriptionIssues(description: unknown, path: IssuePath): Issue[] {
  if (typeof description !== 'string') return [required(path, 'description is required for chat input commands and options.')];
  if (description.length < 1 || description.length > 100) {
    return [{ path, code: 'BASE_TYPE_BAD_LENGTH', message: `Descriptions must be 1–100 characters (got ${description.length}).` }];
  }
  return [];
}

function localizationIssues(map: unknown, path: IssuePath, checkValue: (value: unknown, path: IssuePath) => Issue[]): Issue[] {
  if (!isRecord(map)) return [];
  const issues: Issue[] = [];
  for (const [locale, value] of Object.entries(map)) {
    if (!isValidLocale(locale)) {
      issues.push({ path: [...path, locale], code: 'LOCALE_INVALID', message: `"${locale}" is not a Discord locale (e.g. zh-CN, zh-TW, en-US).` });
    }
    if (value !== null) issues.push(...checkValue(value, [...path, locale]));
  }
  return issues;
}

function commandTextSize(command: Record<string, unknown>): number {
  let n = 0;
  const add = (v: unknown) => void (n += typeof v === 'string' ? v.length : 0);
  const visit = (o: Record<string, unknown>) => {
    add(o.name);
    add(o.description);
    if (Array.isArray(o.choices)) for (const c of o.choices) if (isRecord(c)) { add(c.name); add(typeof c.value === 'string' ? c.value : String(c.value ?? '')); }
    if (Array.isArray(o.options)) for (const opt of o.options) if (isRecord(opt)) visit(opt);
  };
  visit(command);
  return n;
}

// ---------------------------------------------------------------------------------------------

function maxLength(path: IssuePath, max: number): Issue {
  return { path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` };
}

function required(path: IssuePath, message: string): Issue {
  return { path, code: 'BASE_TYPE_REQUIRED', message };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Drops issues that report the same path and problem twice (schema and limit checks overlap). */
export function dedupeIssues(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${formatPath(issue.path)}|${issue.code}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Discord's nested `errors` object for a 50035 answer (what discord.js turns into readable lines). */
export function discordErrorTree(issues: Issue[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const issue of issues) {
    let node = root;
    for (const part of issue.path) {
      const key = String(part);
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    const list = (node._errors ??= []) as Array<{ code: string; message: string }>;
    list.push({ code: issue.code, message: issue.message });
  }
  return root;
}
