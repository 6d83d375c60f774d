// Reading Midjourney's /shorten answer as trueai-org's midjourney-proxy stores it (the embed's description).
import { describe, expect, it } from 'vitest';
import { parseShortened } from '../../src/upstream/midjourney-proxy.ts';

describe('parseShortened', () => {
  it('takes the keycap lines after "Shortened prompts", without their keycaps, up to five', () => {
    const text = '## Important tokens\n\n**cat** **window**\n\n## Shortened prompts\n\n1️⃣ cat, window\n\n2️⃣ cat\n3️⃣ a\n4️⃣ b\n5️⃣ c\n6️⃣ d';
    expect(parseShortened(text)).toEqual(['cat, window', 'cat', 'a', 'b', 'c']);
  });

  it('finds nothing without the heading (the tokens list is not a prompt)', () => {
    expect(parseShortened('## Important tokens\n\n1️⃣ cat')).toEqual([]);
  });
});
