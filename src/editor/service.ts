// Vary (Region): 🖌️ on an upscaled image answers privately with a link to the editor page (src/editor/page.ts),
// served by the bot's own HTTP server under PUBLIC_URL. The page posts a mask and a prompt back here; they are
// checked like /draw's (prompt validation, translation, banned words; the user's ban and queue limit), and the
// child job is stored through the same accept path as any button's. Its result is posted in the channel.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MessageFlags, type ButtonInteraction } from 'discord.js';
import type { Metadata } from 'sharp';
import sharp from '../sharp.ts';
import type { AppContext } from '../context.ts';
import type { Task } from '../db/schema.ts';
import { FOLLOW_UP_JOB, runPreconditions, type Subject } from '../discord/preconditions.ts';
import { translator, type Translate } from '../i18n.ts';
import { parsePrompt } from '../prompt/parse.ts';
import { readBody } from '../http/body.ts';
import { PROMPT_MAX_LENGTH, checkPrompt } from '../prompt/validate.ts';
import { JobRefused, type Refusal } from '../tasks/accept.ts';
import { downloadImage } from '../upstream/download.ts';
import { VARY_REGION, actionIndex, isInternalAction } from '../upstream/actions.ts';
import { ASSETS, ASSETS_PATH, SECURITY_HEADERS, editorPage, messagePage } from './page.ts';
import type { EditorSessions } from './sessions.ts';

export const EDITOR_PATH = '/edit';
/** A mask of a 4096 px image is well under this (two colours compress to almost nothing); the prompt is small. */
const MAX_SUBMIT_BYTES = 8 * 1024 * 1024;

/** Whether 🖌️ goes under this result: an image upscaled from a grid, on a relay that can inpaint, with PUBLIC_URL set. */
export function offersRegionEditor(ctx: Pick<AppContext, 'config' | 'accounts'>, task: Pick<Task, 'action' | 'account' | 'imageUrls' | 'status' | 'upstreamData'>): boolean {
  // The result is stored before it is delivered: a click racing the final status update still works.
  if (!ctx.config.PUBLIC_URL || !task.imageUrls?.length || task.status === 'failed' || task.status === 'cancelled') return false;
  if (!isInternalAction(task.action) || !task.action.startsWith('upscale:') || !actionIndex(task.action)) return false;
  const provider = ctx.accounts.providerFor(task);
  return provider.capabilities.inpaint === true && typeof provider.inpaint === 'function' && (provider.inpaintable?.(task.upstreamData ?? null) ?? true);
}

/** 🖌️ clicked: a private link for whoever clicked, after the same checks as any follow-up button. */
export async function openRegionEditor(ctx: AppContext, sessions: EditorSessions, interaction: ButtonInteraction, parent: Task): Promise<void> {
  const t = translator(interaction.locale);
  if (!offersRegionEditor(ctx, parent)) {
    return void (await interaction.reply({ content: t('errors.actionUnavailable'), flags: MessageFlags.Ephemeral }));
  }
  if (!(await runPreconditions(ctx, interaction, FOLLOW_UP_JOB))) return;
  const token = await sessions.create({
    taskId: parent.id,
    userId: interaction.user.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId ?? parent.channelId,
    locale: interaction.locale,
  });
  const url = `${ctx.config.PUBLIC_URL!.replace(/\/+$/, '')}${EDITOR_PATH}/${token}`;
  ctx.log.info({ taskId: parent.id, userId: interaction.user.id }, 'region editor link sent');
  await interaction.reply({ content: t('editor:link', { url }), flags: MessageFlags.Ephemeral });
}

function html(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' }).end(body);
}

function json(res: ServerResponse, status: number, body: { ok: boolean; message: string }) {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The page, its image, its assets and its submissions. */
export class RegionEditor {
  constructor(
    private readonly ctx: AppContext,
    private readonly sessions: EditorSessions,
  ) {}

  /** Answers a request under /edit/; false when the path is not the editor's. */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (!pathname.startsWith(`${EDITOR_PATH}/`)) return false;
    if (pathname.startsWith(`${ASSETS_PATH}/`)) {
      const asset = ASSETS[pathname.slice(ASSETS_PATH.length + 1)];
      if (!asset) return false;
      res.writeHead(200, { ...SECURITY_HEADERS, 'cache-control': 'public, max-age=3600', 'content-type': asset.type }).end(asset.body);
      return true;
    }
    const [token, sub, ...rest] = pathname.slice(EDITOR_PATH.length + 1).split('/');
    if (!token || rest.length > 0 || (sub !== undefined && sub !== 'image')) return false;
    if (sub === 'image' && req.method === 'GET') await this.image(res, token);
    else if (!sub && req.method === 'GET') await this.page(req, res, token);
    else if (!sub && req.method === 'POST') await this.submit(req, res, token);
    else res.writeHead(405, { allow: 'GET, POST' }).end();
    return true;
  }

  /** The session and its job, or the page explaining why the link cannot be used (answered here). */
  private async open(res: ServerResponse, token: string, reply: (status: number, t: Translate, lang: string, key: string) => void) {
    const found = await this.sessions.find(token);
    if (!found.ok) {
      // An unknown link has no locale of its own: English.
      reply(found.reason === 'unknown' ? 404 : 410, translator('en-US'), 'en-US', `editor:errors.${found.reason}`);
      return undefined;
    }
    const { session } = found;
    const t = translator(session.locale);
    const parent = await this.ctx.repo.get(session.taskId);
    if (!parent || !offersRegionEditor(this.ctx, parent)) {
      reply(410, t, session.locale, 'editor:errors.jobGone');
      return undefined;
    }
    return { session, parent, t };
  }

  private pageError = (res: ServerResponse) => (status: number, t: Translate, lang: string, key: string) =>
    html(res, status, messagePage(t, lang, t('editor:page.title'), t(key)));

  private async page(_req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const opened = await this.open(res, token, this.pageError(res));
    if (!opened) return;
    const { session, parent, t } = opened;
    html(res, 200, editorPage(t, session.locale, { imageUrl: `${EDITOR_PATH}/${token}/image`, prompt: parent.prompt, maxLength: PROMPT_MAX_LENGTH }));
  }

  /** The upscaled image, through this server: the page loads nothing from other origins. */
  private async image(res: ServerResponse, token: string): Promise<void> {
    const opened = await this.open(res, token, (status) => void res.writeHead(status).end());
    if (!opened) return;
    const image = await downloadImage(this.ctx.accounts.providerFor(opened.parent), opened.parent.imageUrls![0]!);
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': image.contentType }).end(image.data);
  }

  private async submit(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const raw = await readBody(req, MAX_SUBMIT_BYTES);
    const opened = await this.open(res, token, (status, t, _lang, key) => json(res, status, { ok: false, message: t(key) }));
    if (!opened) return;
    const { session, parent, t } = opened;
    const refuse = (refusal: Refusal, status = 400) => json(res, status, { ok: false, message: t(refusal.key, refusal.vars) });
    let body: { prompt?: unknown; mask?: unknown };
    try {
      if (!raw) return refuse({ key: 'editor:errors.badMask' }, 413);
      body = JSON.parse(raw.toString('utf8')) as typeof body;
    } catch {
      return refuse({ key: 'editor:errors.badMask' });
    }

    // The prompt: exactly /draw's checks, translation and banned words.
    const check = checkPrompt(typeof body.prompt === 'string' ? body.prompt : '');
    if (!check.ok) return refuse({ key: check.error, vars: check.vars });
    const pieces = parsePrompt(check.prompt);
    const typed = this.ctx.bannedWords.find(pieces);
    if (typed) return refuse({ key: 'translate:banned', vars: { word: typed.word } });
    const translation = this.ctx.translator.cached(pieces) ?? (await this.ctx.translator.translate(pieces));
    const english = translation.status === 'translated' ? this.ctx.bannedWords.find(translation.pieces) : undefined;
    if (english) return refuse({ key: 'translate:bannedTranslated', vars: { word: english.word, prompt: translation.upstream } });

    // The mask: a PNG of the image's own size; white (at least half) is repainted, and something must be.
    const image = await downloadImage(this.ctx.accounts.providerFor(parent), parent.imageUrls![0]!);
    const mask = await readMask(typeof body.mask === 'string' ? body.mask : '', await sharp(image.data).metadata());
    if ('error' in mask) return refuse({ key: mask.error, vars: mask.vars });

    // The user's ban and queue limit, as for any follow-up button; refusals come back as the page's message.
    let refused: string | undefined;
    const subject: Subject = {
      guildId: session.guildId,
      user: { id: session.userId },
      locale: session.locale,
      memberPermissions: null,
      deferred: false,
      replied: false,
      reply: async ({ content }) => void (refused = content),
      followUp: async ({ content }) => void (refused = content),
    };
    const granted = await runPreconditions(this.ctx, subject, FOLLOW_UP_JOB);
    if (!granted) return json(res, 403, { ok: false, message: refused ?? t('errors.internal') });

    if (!(await this.sessions.use(token))) return refuse({ key: 'editor:errors.used' }, 410);
    try {
      // No interaction token: the click was answered with the link, so the result is posted in the channel.
      const task = await this.ctx.tasks.accept(
        {
          interaction: { token: '', createdTimestamp: 0, locale: session.locale, guildId: session.guildId, channelId: session.channelId, user: { id: session.userId } },
          action: VARY_REGION,
          parentId: parent.id,
          prompt: check.prompt,
          promptUpstream: translation.upstream,
          input: { images: [], mask: mask.png.toString('base64') },
        },
        granted.applied,
      );
      this.ctx.log.info({ taskId: task.id, userId: task.userId, action: task.action, prompt: task.prompt, mask: mask.info }, 'task accepted');
    } catch (err) {
      await this.sessions.release(token);
      if (err instanceof JobRefused) return refuse(err.refusal, 429);
      throw err;
    }
    json(res, 200, { ok: true, message: t('editor:started') });
  }
}

type MaskResult = { png: Buffer; info: { width: number; height: number; white: number } } | { error: string; vars?: Record<string, unknown> };

/** Reads the posted mask (a PNG data URL or bare base64) into a strict black-and-white PNG of the image's size. */
export async function readMask(posted: string, image: { width?: number; height?: number }): Promise<MaskResult> {
  const base64 = posted.replace(/^data:image\/png;base64,/, '');
  if (!base64 || !/^[A-Za-z0-9+/=]+$/.test(base64)) return { error: 'editor:errors.badMask' };
  const bytes = Buffer.from(base64, 'base64');
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    return { error: 'editor:errors.badMask' };
  }
  if (meta.format !== 'png') return { error: 'editor:errors.badMask' };
  if (meta.width !== image.width || meta.height !== image.height) {
    return { error: 'editor:errors.maskSize', vars: { width: meta.width, height: meta.height, expectedWidth: image.width, expectedHeight: image.height } };
  }
  const { data, info } = await sharp(bytes).flatten({ background: '#000' }).greyscale().threshold(128).raw().toBuffer({ resolveWithObject: true });
  let white = 0;
  for (let i = 0; i < data.length; i += info.channels) if (data[i]! >= 128) white++;
  if (white === 0) return { error: 'editor:errors.emptyMask' };
  const png = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).png({ compressionLevel: 9 }).toBuffer();
  return { png, info: { width: info.width, height: info.height, white } };
}

