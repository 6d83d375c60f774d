// The README's configuration table and .env.example are how operators learn the variables: none may be missing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../src/config.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

describe('configuration docs', () => {
  it.each(CONFIG_KEYS)('%s is in the README table and in .env.example', (key) => {
    expect(readme).toMatch(new RegExp(`^\\| [^|]*\`${key}\``, 'm'));
    expect(example).toMatch(new RegExp(`^#? ?${key}=`, 'm'));
  });
});
