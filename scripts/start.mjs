// `npm start` (and `npm run start:cluster`): runs the bot from JavaScript that esbuild compiles into `.build/`,
// compiling again only when a source file changed. Loading the TypeScript through tsx costs every start about
// 0.6 s on 2 cores (its loader hooks and per-module transforms; bench/README.md), which is most of a restart.
// The compiled tree mirrors the sources (`.build/src`, `.build/commands`) with `.ts` imports rewritten to `.js`,
// and links to `locales/`, `drizzle/` and `static/`, so every path the code computes from import.meta.url holds.
// Where `.build/` cannot be written (a read-only checkout), the bot runs through tsx instead, as it did before.
// Usage: node scripts/start.mjs [entry.ts] [args...] — the entry defaults to src/main.ts.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, '.build');
const SOURCE_DIRS = ['src', 'commands'];
const LINKED_DIRS = ['locales', 'drizzle', 'static'];
const STAMP = path.join(OUT, 'stamp');

async function sourceFiles() {
  const files = [];
  for (const dir of SOURCE_DIRS) {
    for (const entry of await readdir(path.join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path.join(entry.parentPath ?? entry.path, entry.name));
    }
  }
  return files.sort();
}

/** What the compiled tree was made from: every source's path, size and mtime, and this script and the tsconfig. */
async function fingerprint(files) {
  const hash = createHash('sha256');
  for (const f of [...files, fileURLToPath(import.meta.url), path.join(ROOT, 'tsconfig.json')]) {
    const s = await stat(f);
    hash.update(`${path.relative(ROOT, f)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

/** Relative imports point at the compiled `.js` files; packages stay imports of node_modules. */
const externals = {
  name: 'externals',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      return { path: args.path.startsWith('.') ? args.path.replace(/\.ts$/, '.js') : args.path, external: true };
    });
  },
};

async function compile(files) {
  // Loaded only when something changed: a start with an up-to-date tree never loads esbuild.
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: files,
    outdir: OUT,
    outbase: ROOT,
    // One output per source, with every import external: a per-file transpile with the `.ts` paths rewritten.
    bundle: true,
    plugins: [externals],
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    write: false,
    logLevel: 'error',
  });
  // Each file replaced atomically: two starts compiling at once (the launcher of `start:cluster` and a CLI) both
  // write the same bytes, and a process reading the tree never sees half a file.
  const tmp = `.tmp-${process.pid}`;
  for (const file of result.outputFiles) {
    await mkdir(path.dirname(file.path), { recursive: true });
    await writeFile(file.path + tmp, file.contents);
    await replace(file.path + tmp, file.path);
  }
  await prune();
  for (const dir of LINKED_DIRS) {
    const link = path.join(OUT, dir);
    const target = path.join(ROOT, dir);
    if ((await readlink(link).catch(() => undefined)) === target) continue;
    await rm(link, { recursive: true, force: true });
    // A junction on Windows needs no special rights; elsewhere the type is ignored. EEXIST: another start made it.
    await symlink(target, link, 'junction').catch((err) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

/** rename(), retried briefly where Windows refuses to replace a file another process has open (EPERM, EBUSY). */
async function replace(from, to) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await rename(from, to);
    } catch (err) {
      if (attempt >= 5 || !['EPERM', 'EBUSY', 'EACCES'].includes(err.code)) throw err;
      await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
    }
  }
}

/**
 * Removes compiled files whose source is gone (deleted or renamed): left behind, they could still be imported or
 * started as an entry, running code that no longer exists. Judged by the source on disk now rather than by this
 * start's list, so a start that compiles at the same time as another never removes a file the other just added.
 */
async function prune() {
  for (const dir of SOURCE_DIRS) {
    const entries = await readdir(path.join(OUT, dir), { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isFile() || !/\.js(\.map)?$/.test(entry.name)) continue;
      const compiled = path.join(entry.parentPath ?? entry.path, entry.name);
      const source = path.join(ROOT, path.relative(OUT, compiled)).replace(/\.js(\.map)?$/, '.ts');
      if (!(await stat(source).then(() => true, () => false))) await rm(compiled, { force: true });
    }
  }
}

// `--compile`: only bring `.build/` up to date (the test suite's setup, before it starts bots in parallel).
const compileOnly = process.argv[2] === '--compile';
// The entry stays in argv: `start:cluster`'s workers re-run this script with the same arguments.
const entryArg = process.argv[2] && !process.argv[2].startsWith('-') ? process.argv[2] : 'src/main.ts';
const files = await sourceFiles();
const stamp = await fingerprint(files);
let compiled = true;
if ((await readFile(STAMP, 'utf8').catch(() => '')) !== stamp) {
  try {
    await compile(files);
    await writeFile(STAMP, stamp);
  } catch (err) {
    // A compile error (esbuild lists them, and has printed them) stops the start; a tree that cannot be written
    // (read-only checkout, no space, a file in the way) only costs speed.
    if (err.errors || compileOnly) throw err;
    console.error(`Could not write ${path.relative(ROOT, OUT)}/ (${err.code ?? err.message}): running the TypeScript through tsx instead (a slower start).`);
    compiled = false;
  }
}
if (!compileOnly) {
  const entry = path.relative(ROOT, path.resolve(ROOT, entryArg));
  if (compiled) await import(pathToFileURL(path.join(OUT, entry.replace(/\.ts$/, '.js'))).href);
  else {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(path.join(ROOT, entry)).href);
  }
}
