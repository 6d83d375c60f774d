// The Vary (Region) editor page: plain HTML, with its script and style served by the bot itself, so a strict
// Content-Security-Policy (nothing from other origins, no inline code) holds. Every string is the user's locale.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Translate } from '../i18n.ts';

/** static/ beside src/ (and beside dist/src/ in the production build). */
const STATIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../static');
export const ASSETS: Record<string, { type: string; body: Buffer }> = {
  'editor.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(path.join(STATIC_DIR, 'editor.js')) },
  'editor.css': { type: 'text/css; charset=utf-8', body: readFileSync(path.join(STATIC_DIR, 'editor.css')) },
};
export const ASSETS_PATH = '/edit/assets';

export const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  // The token is in the path: never sent on to anyone, never cached.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

const escapeHtml = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&quot;' })[c]!);
/** JSON inside <script type="application/json">: `<` escaped so no `</script>` can close it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function shell(lang: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="${escapeHtml(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${ASSETS_PATH}/editor.css">
</head>
<body>
${body}
</body>
</html>
`;
}

export function editorPage(t: Translate, lang: string, opts: { imageUrl: string; prompt: string; maxLength: number }): string {
  const strings = {
    drawFirst: t('editor:page.drawFirst'),
    sending: t('editor:page.sending'),
    failed: t('editor:page.failed'),
  };
  return shell(
    lang,
    t('editor:page.title'),
    `<main class="editor">
<h1>${escapeHtml(t('editor:page.title'))}</h1>
<p class="hint">${escapeHtml(t('editor:page.hint'))}</p>
<div class="toolbar" role="toolbar">
<button type="button" data-tool="rect" aria-pressed="true">▭ ${escapeHtml(t('editor:page.rectangle'))}</button>
<button type="button" data-tool="lasso" aria-pressed="false">${escapeHtml(t('editor:page.lasso'))}</button>
<button type="button" id="undo" disabled>↶ ${escapeHtml(t('editor:page.undo'))}</button>
<button type="button" id="clear" disabled>✕ ${escapeHtml(t('editor:page.clear'))}</button>
</div>
<div class="stage" id="stage">
<img id="image" src="${escapeHtml(opts.imageUrl)}" alt="${escapeHtml(t('editor:page.imageAlt'))}">
<canvas id="overlay" aria-label="${escapeHtml(t('editor:page.canvasLabel'))}"></canvas>
</div>
<form id="form">
<label for="prompt">${escapeHtml(t('editor:page.prompt'))}</label>
<textarea id="prompt" name="prompt" rows="3" maxlength="${opts.maxLength}" required>${escapeHtml(opts.prompt)}</textarea>
<button type="submit" id="submit" class="primary" disabled>${escapeHtml(t('editor:page.submit'))}</button>
</form>
<p id="status" role="status" aria-live="polite"></p>
</main>
<script type="application/json" id="editor-data">${scriptJson({ strings })}</script>
<script src="${ASSETS_PATH}/editor.js"></script>`,
  );
}

/** An expired, used or unknown link, or a job that can no longer be edited: says so, starts nothing. */
export function messagePage(t: Translate, lang: string, title: string, message: string): string {
  return shell(lang, title, `<main class="editor message">\n<h1>${escapeHtml(title)}</h1>\n<p id="message">${escapeHtml(message)}</p>\n<p>${escapeHtml(t('editor:page.backToDiscord'))}</p>\n</main>`);
}
