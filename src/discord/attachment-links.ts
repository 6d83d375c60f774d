// Discord's attachment links (`…/attachments/…?ex=…&is=…&hm=…`) stop working about a day after they were issued.
// Jobs keep the links of what users attached (image prompts, /blend, /describe, reference images) and the links
// users typed; before any of them goes upstream again (or is downloaded for a relay that wants bytes) they are
// renewed with `POST /attachments/refresh-urls` (up to 50 per request).
import type { REST } from '@discordjs/rest';
import type { Logger } from '../log.ts';
import { isAttachmentLink, type RefreshLinks } from '../tasks/links.ts';

const PER_REQUEST = 50;

interface RefreshAnswer {
  refreshed_urls?: Array<{ original?: unknown; refreshed?: unknown }>;
}

/** Discord's answer read defensively: only well-formed pairs count. */
function pairs(body: unknown): Array<[string, string]> {
  const list = (body as RefreshAnswer | null)?.refreshed_urls;
  if (!Array.isArray(list)) return [];
  return list.flatMap((p) => (typeof p?.original === 'string' && typeof p.refreshed === 'string' && p.refreshed ? [[p.original, p.refreshed] as [string, string]] : []));
}

/** `RefreshLinks` over the bot token's REST client. A failure is logged and leaves the links as they were. */
export function attachmentLinkRefresher(rest: Pick<REST, 'post'>, log: Logger): RefreshLinks {
  return async (urls) => {
    const wanted = [...new Set(urls.filter(isAttachmentLink))];
    const out = new Map<string, string>();
    for (let i = 0; i < wanted.length; i += PER_REQUEST) {
      const batch = wanted.slice(i, i + PER_REQUEST);
      try {
        // discord.js has no route helper for it (nor discord-api-types a type): the path as Discord documents it.
        const body = await rest.post('/attachments/refresh-urls', { body: { attachment_urls: batch } });
        for (const [original, refreshed] of pairs(body)) out.set(original, refreshed);
      } catch (err) {
        log.warn({ err, links: batch.length }, 'could not renew Discord attachment links; sending them as stored');
      }
    }
    return out;
  };
}
