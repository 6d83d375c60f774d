// The launcher `npm start` runs (scripts/start.mjs), on a small project of its own: the real script, compiling
// with the real esbuild into its `.build/`, run as a process the way `npm start` runs it. And what the compiled
// bot loads when it starts.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHER, ROOT } from '../support/bot.ts';

const run = promisify(execFile);
let dir: string;

/** `node scripts/start.mjs [entry]` in the small project: its output, or how it failed. */
async function start(entry?: string): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [path.join(dir, 'scripts/start.mjs'), ...(entry ? [entry] : [])], { cwd: dir, timeout: 60_000 });
    return { ok: true, out: stdout.trim() };
  } catch (err) {
    return { ok: false, out: String((err as { stderr?: string }).stderr ?? err) };
  }
}

const exists = (p: string) => stat(path.join(dir, p)).then(() => true, () => false);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mj-launcher-'));
  await mkdir(path.join(dir, 'scripts'));
  await cp(LAUNCHER, path.join(dir, 'scripts/start.mjs'));
  await cp(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  // ES modules, as the project's own package.json says (tsx, in the fallback, reads it).
  await writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  await mkdir(path.join(dir, 'src'));
  await mkdir(path.join(dir, 'commands'));
  await writeFile(path.join(dir, 'commands/index.ts'), 'export const commands: string[] = [];\n');
  await writeFile(path.join(dir, 'src/greeting.ts'), "console.log('greeting loaded');\nexport const greeting: string = 'hello';\n");
  await writeFile(path.join(dir, 'src/main.ts'), "import { greeting } from './greeting.ts';\nconsole.log(greeting);\n");
}, 30_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('scripts/start.mjs', () => {
  it('compiles the sources into .build/ and runs the entry', async () => {
    expect(await start()).toEqual({ ok: true, out: 'greeting loaded\nhello' });
    expect(await exists('.build/src/greeting.js')).toBe(true);
  });

  it('a source renamed or deleted leaves no compiled copy behind that an import or an entry could still load', async () => {
    await rename(path.join(dir, 'src/greeting.ts'), path.join(dir, 'src/words.ts'));
    await writeFile(path.join(dir, 'src/main.ts'), "import { greeting } from './words.ts';\nconsole.log(greeting);\n");
    expect(await start()).toEqual({ ok: true, out: 'greeting loaded\nhello' });
    expect(await exists('.build/src/words.js')).toBe(true);
    expect(await exists('.build/src/greeting.js')).toBe(false);
    expect(await exists('.build/src/greeting.js.map')).toBe(false);
    // The old entry is gone: starting it fails instead of running the code it had before.
    const stale = await start('src/greeting.ts');
    expect(stale.ok).toBe(false);
    expect(stale.out).not.toContain('greeting loaded');
  });

  it('where .build/ cannot be written, runs the TypeScript through tsx and says why on stderr', async () => {
    await rm(path.join(dir, '.build'), { recursive: true, force: true });
    // A file where the compiled tree should go: nothing can be written under it.
    await writeFile(path.join(dir, '.build'), 'not a folder');
    try {
      const { stdout, stderr } = await run(process.execPath, [path.join(dir, 'scripts/start.mjs')], { cwd: dir, timeout: 60_000 });
      expect(stdout.trim()).toBe('greeting loaded\nhello');
      expect(stderr).toMatch(/^Could not write \.build\/ \(E[A-Z]+\): running the TypeScript through tsx instead/);
    } finally {
      await rm(path.join(dir, '.build'), { force: true });
    }
  });

  it('a compile error stops the start with esbuild\'s message (no fallback that would hide it)', async () => {
    await writeFile(path.join(dir, 'src/broken.ts'), 'export const x = ;\n');
    try {
      const broken = await start();
      expect(broken.ok).toBe(false);
      expect(broken.out).toMatch(/src\/broken\.ts/);
      expect(broken.out).not.toContain('through tsx');
    } finally {
      await rm(path.join(dir, 'src/broken.ts'), { force: true });
    }
  });
});

describe('the compiled bot', () => {
  it('loads sharp (libvips) on the first image, not when it starts: every module a start loads imports src/sharp.ts', async () => {
    // app.ts is what main.ts loads at start (every command, relay adapter and task module); the test setup compiled it.
    const probe = [
      "import { createRequire } from 'node:module';",
      `await import(${JSON.stringify(pathToFileURL(path.join(ROOT, '.build/src/app.js')).href)});`,
      'const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /[\\\\/]node_modules[\\\\/]sharp[\\\\/]/.test(k));',
      'console.log(JSON.stringify(loaded));',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: ROOT, timeout: 60_000 });
    expect(JSON.parse(stdout.trim())).toEqual([]);
  });
});
