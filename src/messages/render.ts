// What the user sees: message text and buttons for each state of a task, in the task owner's language.
import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponentWithCustomId } from 'discord.js';
import type { Task } from '../db/schema.ts';
import { translator, type Translate } from '../i18n.ts';
import { DESCRIBE_PICKS, SHORTEN_PICKS, VARY_REGION, actionIndex, isInternalAction, videoPickIndex, type DescribePick, type InternalAction, type ShortenPick } from '../upstream/actions.ts';
import { CANCEL, RETRY, SEED, encodeCustomId } from './custom-id.ts';

export interface OutgoingFile {
  name: string;
  data: Buffer;
  contentType: string;
}

export interface OutgoingMessage {
  content: string;
  components: APIActionRowComponent<APIButtonComponentWithCustomId>[];
  file?: OutgoingFile;
  /** Several files in one message (a batch of video clips); sent after `file` when both are set. */
  files?: OutgoingFile[];
}

/** Discord's message limit; prompts are capped below it, but a long translation could still push us over. */
const CONTENT_MAX = 2000;
const clip = (s: string) => (s.length <= CONTENT_MAX ? s : `${s.slice(0, CONTENT_MAX - 1)}…`);

// Discord renders ** and other markdown: neutralise the characters that would break our bold prompt.
const escapeMarkdown = (s: string) => s.replace(/([*_~`|\\<>])/g, '\\$1');

function actionName(t: Translate, action: string): string | undefined {
  if (action === 'blend') return t('images:actions.blend');
  if (action === 'describe') return t('images:actions.describe');
  if (action === 'shorten') return t('commands:shorten.action');
  if (action.startsWith('variation:')) return t('actions.variation');
  if (action === 'reroll') return t('actions.reroll');
  if (action === 'vary:subtle') return t('actions.varySubtle');
  if (action === 'vary:strong') return t('actions.varyStrong');
  if (action === VARY_REGION) return t('editor:button');
  if (action.startsWith('zoom:')) return t('actions.zoom');
  if (action.startsWith('pan:')) return t('actions.pan');
  if (action === 'edit') return t('actions.edit');
  if (action.startsWith('upscale:') && !actionIndex(action as InternalAction)) return t('actions.upscaleMore');
  if (action === 'animate' || action.startsWith('animate:')) return t('video:actions.animate');
  if (action.startsWith('extend:')) return t('video:actions.extend');
  return undefined;
}

/** What a job's messages are written from: enough to show a job before its row exists. */
export type JobText = Pick<Task, 'prompt' | 'promptUpstream' | 'userId' | 'locale' | 'action'>;

/** "**prompt** - <@user>", "**prompt** - Image #2 <@user>", "**prompt** - Variations by <@user>". */
export function headline(task: JobText, t: Translate = translator(task.locale)): string {
  const vars = { prompt: escapeMarkdown(task.prompt), user: task.userId };
  const index = isInternalAction(task.action) && task.action.startsWith('upscale:') ? actionIndex(task.action) : undefined;
  if (index) return t('job.lineUpscale', { ...vars, index });
  const clip = videoPickIndex(task.action as InternalAction);
  if (clip) return t('video:job.lineClip', { ...vars, index: clip });
  const name = actionName(t, task.action);
  return name ? t('job.lineAction', { ...vars, action: name }) : t('job.line', vars);
}

/** A second line with the prompt as sent upstream (translated or normalised), when it differs from what was typed. */
function sentLine(task: JobText, t: Translate): string {
  return task.promptUpstream && task.promptUpstream !== task.prompt ? `\n${t('translate:sentAs', { prompt: escapeMarkdown(task.promptUpstream) })}` : '';
}

/** How a message of a job that has not finished may look. */
export interface LiveOptions {
  /** Offer ❌: the job can still be stopped (queued, or at a relay that can cancel). */
  cancellable?: boolean;
}

/** The ❌ row under a job still waiting or running. */
function cancelRow(taskId: string): OutgoingMessage['components'] {
  return [{
    type: ComponentType.ActionRow,
    components: [{ type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: encodeCustomId(taskId, CANCEL), emoji: { name: '❌' } }],
  }];
}

/** Waiting to start at the relay. A job not stored yet (no id) cannot be cancelled, so it gets no ❌. */
export function waitingMessage(task: JobText & { id?: string }, opts: LiveOptions = {}): OutgoingMessage {
  const t = translator(task.locale);
  const components = opts.cancellable && task.id ? cancelRow(task.id) : [];
  return { content: clip(`${headline(task, t)} ${t('job.waiting')}${sentLine(task, t)}`), components };
}

/** Still in our own queue: its place in line, and ❌ (a queued job can always be cancelled). */
export function queuedMessage(task: Task, position: number): OutgoingMessage {
  const t = translator(task.locale);
  return { content: clip(`${headline(task, t)} ${t('job.queued', { position })}${sentLine(task, t)}`), components: cancelRow(task.id) };
}

export function progressMessage(task: Task, progress: number, preview?: OutgoingFile, opts: LiveOptions = {}): OutgoingMessage {
  const t = translator(task.locale);
  const components = opts.cancellable ? cancelRow(task.id) : [];
  return { content: clip(`${headline(task, t)} ${t('job.progress', { progress })}${sentLine(task, t)}`), components, file: preview };
}

/** A cancelled job: its headline kept, no buttons; says who cancelled it when that was not its owner. */
export function cancelledMessage(task: Task, by: string = task.userId): OutgoingMessage {
  const t = translator(task.locale);
  const line = `${headline(task, t)}${sentLine(task, t)}`;
  return { content: clip(by === task.userId ? t('job.cancelled', { line }) : t('job.cancelledBy', { line, user: by })), components: [] };
}

export function failedMessage(task: Task, reason: string): OutgoingMessage {
  const t = translator(task.locale);
  return { content: clip(t('job.failed', { line: `${headline(task, t)}${sentLine(task, t)}`, reason })), components: retryRow(task.id, t) };
}

/** ↻ Retry under every failed job: the same job again, for whoever clicks. */
function retryRow(taskId: string, t: Translate): OutgoingMessage['components'] {
  return [{
    type: ComponentType.ActionRow,
    components: [{ type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: encodeCustomId(taskId, RETRY), label: t('relay:retry.button') }],
  }];
}

/** What a result offers beyond its job's own actions. */
export interface ResultOptions {
  /** 🖌️ Vary (Region): the editor page can serve this image (see src/editor). */
  regionEditor?: boolean;
  /** 📋: the relay can tell the job's seed. */
  seed?: boolean;
}

export function resultMessage(task: Task, image: OutgoingFile, opts: ResultOptions = {}): OutgoingMessage {
  const t = translator(task.locale);
  const actions = (task.actions ?? []).filter(isInternalAction);
  const rows = buttonRows(task.id, actions, t);
  if (opts.regionEditor) addRegionButton(rows, task.id, t);
  return { content: clip(`${headline(task, t)}${sentLine(task, t)}`), components: opts.seed ? withSeedButton(task.id, rows) : rows, file: image };
}

/** 🖌️ Vary (Region) beside Vary (Strong/Subtle), as Midjourney places it (a row of its own if there is none). */
function addRegionButton(rows: OutgoingMessage['components'], taskId: string, t: Translate): void {
  const region: APIButtonComponentWithCustomId = {
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    custom_id: encodeCustomId(taskId, VARY_REGION),
    label: t('editor:button'),
    emoji: { name: '🖌️' },
  };
  const varyRow = rows.find((r) => r.components.some((b) => b.custom_id.endsWith(':vary:strong') || b.custom_id.endsWith(':vary:subtle')));
  if (varyRow && varyRow.components.length < 5) varyRow.components.push(region);
  else if (rows.length < 5) rows.push({ type: ComponentType.ActionRow, components: [region] });
}

/** 📋 at the end of the last row with room (a row holds 5 buttons, a message 5 rows), or on a row of its own. */
function withSeedButton(taskId: string, rows: OutgoingMessage['components']): OutgoingMessage['components'] {
  const seed: APIButtonComponentWithCustomId = { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: encodeCustomId(taskId, SEED), emoji: { name: '📋' } };
  const last = rows.at(-1);
  if (last && last.components.length < 5) return [...rows.slice(0, -1), { ...last, components: [...last.components, seed] }];
  return rows.length < 5 ? [...rows, { type: ComponentType.ActionRow, components: [seed] }] : rows;
}

/** A finished video job: its clips uploaded as files (never linked: relay links expire), with their buttons. */
export function videoResultMessage(task: Task, clips: OutgoingFile[], note?: string): OutgoingMessage {
  const t = translator(task.locale);
  const actions = (task.actions ?? []).filter(isInternalAction);
  const text = `${headline(task, t)}${sentLine(task, t)}${note ? `\n${note}` : ''}`;
  return { content: clip(text), components: buttonRows(task.id, actions, t), files: clips };
}

const KEYCAPS = ['1️⃣', '2️⃣', '3️⃣', '4️⃣', '5️⃣'];

/** Suggested prompts numbered 1️⃣–5️⃣ under `intro`, each with a button (`picks`) that draws it for whoever clicks. */
function promptList(task: Task, intro: string, picks: readonly (DescribePick | ShortenPick)[]): OutgoingMessage {
  const prompts = (task.descriptions ?? []).slice(0, picks.length);
  const list = prompts.map((p, i) => `${KEYCAPS[i]} ${escapeMarkdown(p)}`).join('\n\n');
  const shown = picks.slice(0, prompts.length);
  return {
    content: clip(`${intro}\n\n${list}`),
    components: shown.length === 0 ? [] : [{
      type: ComponentType.ActionRow,
      components: shown.map((pick, i) => ({
        type: ComponentType.Button,
        style: ButtonStyle.Secondary,
        custom_id: encodeCustomId(task.id, pick),
        emoji: { name: KEYCAPS[i]! },
      })),
    }],
  };
}

/** A finished /describe: the four suggested prompts, each with a button that draws it for whoever clicks. */
export function describedMessage(task: Task): OutgoingMessage {
  const t = translator(task.locale);
  return promptList(task, `${headline(task, t)}\n${t('images:describe.intro')}`, DESCRIBE_PICKS);
}

/** A finished /shorten: the shortened prompts (up to five), each with a button that draws it for whoever clicks. */
export function shortenedMessage(task: Task): OutgoingMessage {
  const t = translator(task.locale);
  return promptList(task, `${headline(task, t)}${sentLine(task, t)}\n${t('commands:shorten.intro')}`, SHORTEN_PICKS);
}

// Buttons the way Midjourney lays them out; each group is one row (at most 5 buttons, at most 5 rows).
const GROUPS: InternalAction[][] = [
  ['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll'],
  ['variation:1', 'variation:2', 'variation:3', 'variation:4'],
  ['vary:strong', 'vary:subtle', 'edit'],
  ['zoom:2', 'zoom:1.5', 'zoom:custom'],
  ['pan:left', 'pan:right', 'pan:up', 'pan:down'],
  ['animate:low', 'animate:high', 'animate:manual:low', 'animate:manual:high'],
  ['upscale:2x', 'upscale:4x', 'upscale:subtle', 'upscale:creative'],
  ['video:pick:1', 'video:pick:2', 'video:pick:3', 'video:pick:4'],
  ['extend:low', 'extend:high'],
];

function button(taskId: string, action: InternalAction, t: Translate): APIButtonComponentWithCustomId {
  const base = { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: encodeCustomId(taskId, action) } as const;
  const index = actionIndex(action);
  if (index) return { ...base, label: `${action.startsWith('upscale') ? 'U' : 'V'}${index}` };
  switch (action) {
    case 'reroll': return { ...base, emoji: { name: '🔄' } };
    case 'vary:subtle': return { ...base, label: t('buttons.varySubtle'), emoji: { name: '🪄' } };
    case 'vary:strong': return { ...base, label: t('buttons.varyStrong'), emoji: { name: '🪄' } };
    case 'zoom:2': return { ...base, label: t('buttons.zoom2'), emoji: { name: '🔍' } };
    case 'zoom:1.5': return { ...base, label: t('buttons.zoom15'), emoji: { name: '🔍' } };
    case 'zoom:custom': return { ...base, label: t('buttons.zoomCustom'), emoji: { name: '🔍' } };
    case 'pan:left': return { ...base, emoji: { name: '⬅️' } };
    case 'pan:right': return { ...base, emoji: { name: '➡️' } };
    case 'pan:up': return { ...base, emoji: { name: '⬆️' } };
    case 'pan:down': return { ...base, emoji: { name: '⬇️' } };
    case 'upscale:2x': return { ...base, label: t('buttons.upscale2x') };
    case 'upscale:4x': return { ...base, label: t('buttons.upscale4x') };
    case 'upscale:subtle': return { ...base, label: t('buttons.upscaleSubtle') };
    case 'upscale:creative': return { ...base, label: t('buttons.upscaleCreative') };
    case 'edit': return { ...base, label: t('buttons.edit'), emoji: { name: '✏️' } };
    case 'animate:low': return { ...base, label: t('video:buttons.animateLow'), emoji: { name: '🎞️' } };
    case 'animate:high': return { ...base, label: t('video:buttons.animateHigh'), emoji: { name: '🎞️' } };
    case 'animate:manual:low': return { ...base, label: t('video:buttons.animateManualLow'), emoji: { name: '✍️' } };
    case 'animate:manual:high': return { ...base, label: t('video:buttons.animateManualHigh'), emoji: { name: '✍️' } };
    case 'extend:low': return { ...base, label: t('video:buttons.extendLow'), emoji: { name: '🎞️' } };
    case 'extend:high': return { ...base, label: t('video:buttons.extendHigh'), emoji: { name: '🎞️' } };
    case 'video:pick:1': case 'video:pick:2': case 'video:pick:3': case 'video:pick:4':
      return { ...base, label: `U${videoPickIndex(action)}` };
    default: return { ...base, label: action.slice(0, 80) };
  }
}

export function buttonRows(taskId: string, actions: InternalAction[], t: Translate): OutgoingMessage['components'] {
  const offered = new Set(actions);
  return GROUPS.map((group) => group.filter((a) => offered.has(a)))
    .filter((group) => group.length > 0)
    .slice(0, 5)
    .map((group) => ({ type: ComponentType.ActionRow, components: group.map((a) => button(taskId, a, t)) }));
}
