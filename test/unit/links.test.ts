// Which stored links the dispatcher renews before a submission, and how renewed links replace them.
import { describe, expect, it } from 'vitest';
import { isAttachmentLink, linksIn, renewLinks } from '../../src/tasks/links.ts';

const SIGNED = 'https://cdn.discordapp.com/attachments/1/2/a.png?ex=68f1285b&is=68efd6db&hm=aad1e2';

describe('attachment links', () => {
  it('recognises signed Discord attachment links only', () => {
    expect(isAttachmentLink(SIGNED)).toBe(true);
    expect(isAttachmentLink('https://media.discordapp.net/attachments/1/2/a.png?ex=1&is=2&hm=3&width=100')).toBe(true);
    expect(isAttachmentLink('https://cdn.discordapp.com/ephemeral-attachments/1/2/a.png?ex=1&is=2&hm=3')).toBe(true);
    expect(isAttachmentLink('https://cdn.discordapp.com/attachments/1/2/a.png')).toBe(false);
    expect(isAttachmentLink('https://example.com/a.png?ex=1&is=2&hm=3')).toBe(false);
    expect(isAttachmentLink('not a url')).toBe(false);
  });

  it('finds the links of a prompt, image prompts and parameter values alike', () => {
    expect(linksIn(`<${SIGNED}> a cat --sref https://example.com/s.png --v 7`)).toEqual([SIGNED, 'https://example.com/s.png']);
  });

  it('asks once for the attachment links and replaces what was renewed', async () => {
    const asked: string[][] = [];
    const renewed = await renewLinks(async (urls) => {
      asked.push([...urls]);
      return new Map([[SIGNED, `${SIGNED}-new`]]);
    }, [SIGNED, 'https://example.com/x.png', SIGNED]);
    expect(asked).toEqual([[SIGNED]]);
    expect(renewed.count).toBe(1);
    expect(renewed.link(SIGNED)).toBe(`${SIGNED}-new`);
    expect(renewed.link('https://example.com/x.png')).toBe('https://example.com/x.png');
    expect(renewed.text(`${SIGNED} a cat --sref ${SIGNED}`)).toBe(`${SIGNED}-new a cat --sref ${SIGNED}-new`);
  });

  it('does not ask when there is nothing to renew', async () => {
    let asked = false;
    const renewed = await renewLinks(async () => ((asked = true), new Map()), ['https://example.com/x.png']);
    expect(asked).toBe(false);
    expect(renewed.text('a cat')).toBe('a cat');
  });
});
