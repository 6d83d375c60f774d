// i18next over locales/<lng>/<namespace>.json. Replies follow interaction.locale; command names and
// descriptions are built from the same files so Discord shows them in the user's language.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next, { type i18n, type TOptions } from 'i18next';

export const LOCALES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../locales');
export const DEFAULT_LOCALE = 'en-US';

type Resources = Record<string, Record<string, Record<string, unknown>>>;

export function readLocaleFiles(dir = LOCALES_DIR): Resources {
  const resources: Resources = {};
  for (const lng of readdirSync(dir)) {
    resources[lng] = {};
    for (const file of readdirSync(path.join(dir, lng)).filter((f) => f.endsWith('.json'))) {
      resources[lng][path.basename(file, '.json')] = JSON.parse(readFileSync(path.join(dir, lng, file), 'utf8'));
    }
  }
  return resources;
}

const resources = readLocaleFiles();
export const SUPPORTED_LOCALES = Object.keys(resources);

const instance: i18n = i18next.createInstance();
await instance.init({
  resources,
  lng: DEFAULT_LOCALE,
  // Discord sends zh-TW, en-GB, ...: fall back to the nearest language we have, then English.
  fallbackLng: { 'zh-TW': ['zh-CN', DEFAULT_LOCALE], default: [DEFAULT_LOCALE] },
  supportedLngs: false,
  ns: Object.keys(resources[DEFAULT_LOCALE] ?? {}),
  defaultNS: 'messages',
  // Discord markdown and user text are not HTML: never escape.
  interpolation: { escapeValue: false },
  returnNull: false,
  initAsync: false,
});

export type Translate = (key: string, vars?: TOptions) => string;

/** A translator bound to one Discord locale (unknown locales fall back to English). */
export function translator(locale: string | null | undefined): Translate {
  const lng = locale && /^[a-z]{2}(-[A-Z]{2})?$/.test(locale) ? locale : DEFAULT_LOCALE;
  return instance.getFixedT(lng);
}

/** `{ 'zh-CN': '...' }` for every non-default locale: Discord's name_localizations / description_localizations. */
export function localizations(key: string, vars?: TOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const lng of SUPPORTED_LOCALES) {
    if (lng === DEFAULT_LOCALE) continue;
    if (instance.exists(key, { lng, fallbackLng: false })) out[lng] = instance.t(key, { ...vars, lng });
  }
  return out;
}

/** Name, description and their localizations from `<key>.name` / `<key>.description`: a command, subcommand or option. */
export function described(key: string, vars?: TOptions) {
  const en = translator(DEFAULT_LOCALE);
  return {
    name: en(`${key}.name`, vars),
    name_localizations: localizations(`${key}.name`, vars),
    description: en(`${key}.description`, vars),
    description_localizations: localizations(`${key}.description`, vars),
  };
}
