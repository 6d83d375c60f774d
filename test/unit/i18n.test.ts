import { describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.ts';
import { DEFAULT_LOCALE, localizations, readLocaleFiles, translator } from '../../src/i18n.ts';

function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === 'object') Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = String(v);
  }
  return out;
}

const resources = readLocaleFiles();
const placeholders = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

describe('locales', () => {
  it('ships en-US and zh-CN', () => {
    expect(Object.keys(resources).sort()).toEqual(['en-US', 'zh-CN']);
  });

  for (const lng of Object.keys(resources).filter((l) => l !== DEFAULT_LOCALE)) {
    it(`${lng} has exactly the keys and placeholders of ${DEFAULT_LOCALE}`, () => {
      const base = resources[DEFAULT_LOCALE]!;
      const other = resources[lng]!;
      expect(Object.keys(other).sort()).toEqual(Object.keys(base).sort());
      for (const ns of Object.keys(base)) {
        const a = flatten(base[ns]!);
        const b = flatten(other[ns]!);
        expect(Object.keys(b).sort(), `namespace ${ns}`).toEqual(Object.keys(a).sort());
        for (const key of Object.keys(a)) expect(placeholders(b[key]!), `${ns}:${key}`).toEqual(placeholders(a[key]!));
      }
    });
  }

  it('answers in the user locale, falls back to English, and maps zh-TW to Chinese', () => {
    expect(translator('zh-CN')('errors.expired')).toMatch(/过期/);
    expect(translator('zh-TW')('errors.expired')).toMatch(/过期/);
    expect(translator('fr')('errors.expired')).toMatch(/expired/);
    expect(translator(undefined)('errors.expired')).toMatch(/expired/);
  });

  it('localizes every command name, description and option for zh-CN within Discord limits', () => {
    for (const cmd of commands.values()) {
      const { data } = cmd;
      const entries = [data, ...(data.options ?? [])];
      for (const e of entries) {
        expect(e.name_localizations?.['zh-CN'], e.name).toBeTruthy();
        expect(e.description_localizations?.['zh-CN'], e.name).toBeTruthy();
        for (const name of [e.name, ...Object.values(e.name_localizations ?? {})]) {
          expect(name).toMatch(/^[-_\p{L}\p{N}]{1,32}$/u);
          expect(name).toBe(name!.toLowerCase());
        }
        for (const d of [e.description, ...Object.values(e.description_localizations ?? {})]) expect(d!.length).toBeLessThanOrEqual(100);
      }
    }
    expect(localizations('commands:draw.name')).toEqual({ 'zh-CN': '画图' });
  });
});
