// Shared readers and writers of relay payloads (src/upstream/parse.ts).
import { describe, expect, it } from 'vitest';
import { withMotion } from '../../src/upstream/parse.ts';

describe('withMotion: the motion of a video job, as a prompt parameter for relays without a motion field', () => {
  it('adds the motion at the end', () => {
    expect(withMotion('a kite over the sea --ar 16:9', 'high')).toBe('a kite over the sea --ar 16:9 --motion high');
    expect(withMotion('', 'low')).toBe('--motion low');
  });

  it('the button clicked wins over a --motion the prompt already carries (Extend (Low) on a high-motion clip)', () => {
    expect(withMotion('a kite --motion high --ar 16:9', 'low')).toBe('a kite --ar 16:9 --motion low');
    expect(withMotion('--MOTION high a kite', 'low')).toBe('a kite --motion low');
  });
});
