// /draw-admin's definition: Manage Server by default, guild only, and every nested name and description
// localized within Discord's rules (the shared locale test checks only the first level).
import { PermissionFlagsBits } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.ts';

type Described = { name: string; description: string; name_localizations?: Record<string, string> | null; description_localizations?: Record<string, string> | null; options?: Described[] };

function* walk(option: Described): Generator<Described> {
  yield option;
  for (const child of option.options ?? []) yield* walk(child);
}

describe('/draw-admin definition', () => {
  const cmd = commands.get('draw-admin')!;

  it('is registered, for Manage Server, in servers only', () => {
    expect(cmd.data).toMatchObject({ name: 'draw-admin', default_member_permissions: String(PermissionFlagsBits.ManageGuild), contexts: [0] });
  });

  it('has valid, localized names and descriptions at every level', () => {
    const all = [...walk(cmd.data as Described)];
    expect(all.length).toBeGreaterThan(15);
    for (const o of all) {
      for (const name of [o.name, ...Object.values(o.name_localizations ?? {})]) {
        expect(name).toMatch(/^[-_\p{L}\p{N}]{1,32}$/u);
        expect(name).toBe(name.toLowerCase());
      }
      expect(o.name_localizations?.['zh-CN'], o.name).toBeTruthy();
      expect(o.description_localizations?.['zh-CN'], o.name).toBeTruthy();
      for (const d of [o.description, ...Object.values(o.description_localizations ?? {})]) expect(d.length, d).toBeLessThanOrEqual(100);
    }
  });
});
