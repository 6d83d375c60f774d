// The Discord attachment links a job keeps (what users attached, links they typed) expire about a day after they
// were issued: the dispatcher renews them (src/discord/attachment-links.ts asks Discord) every time it sends a job
// upstream, so a retry, 🔄 or a variation a day later does not send dead links (or fail to download them).
import { parsePrompt } from '../prompt/parse.ts';

/**
 * A signed Discord attachment link (`…/attachments/…?ex=…&is=…&hm=…`): the kind Discord renews. Files given to a
 * slash command's attachment option live under `/ephemeral-attachments/`; Discord removes those after a while
 * (its docs give no duration), so they are asked about too, and go as stored when Discord renews nothing.
 */
export function isAttachmentLink(url: string): boolean {
  try {
    const u = new URL(url);
    return /\/(ephemeral-)?attachments\//.test(u.pathname) && ['ex', 'is', 'hm'].every((k) => u.searchParams.has(k));
  } catch {
    return false;
  }
}

/** Renews links; answers original → renewed for those Discord renewed (a failure answers none). */
export type RefreshLinks = (urls: readonly string[]) => Promise<Map<string, string>>;

/** The links in a prompt (image prompts, `--sref` URLs…), as typed (without `<>`). */
export function linksIn(prompt: string): string[] {
  // After a parameter a link is its value (`--sref <url>`); elsewhere a piece of its own.
  const pieces = parsePrompt(prompt).filter((p) => p.kind === 'url' || p.kind === 'value');
  return pieces.flatMap((p) => p.text.split(/\s+/)).map((w) => w.replace(/^<|>$/g, '')).filter((w) => /^https?:\/\//.test(w));
}

export interface Renewed {
  /** The link to send for a stored one. */
  link(url: string): string;
  /** A prompt with its stored links replaced by renewed ones. */
  text(prompt: string): string;
  /** How many links were renewed. */
  readonly count: number;
}

/** Renews the attachment links among `urls` (one request per 50); without a refresher, everything stays. */
export async function renewLinks(refresh: RefreshLinks | undefined, urls: readonly string[]): Promise<Renewed> {
  const wanted = [...new Set(urls.filter(isAttachmentLink))];
  const fresh = refresh && wanted.length > 0 ? await refresh(wanted) : new Map<string, string>();
  return {
    link: (url) => fresh.get(url) ?? url,
    text: (prompt) => {
      let out = prompt;
      for (const [from, to] of fresh) out = out.split(from).join(to);
      return out;
    },
    count: fresh.size,
  };
}
