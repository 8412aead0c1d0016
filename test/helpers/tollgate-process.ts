import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_DATABASE_URL, TEST_KEY_ENCRYPTION_KEY } from './database.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');

/**
 * The Node that runs the built server: this one when it is new enough (npm scripts put the
 * project's pinned Node first on PATH), else the pinned one, as the runtime check demands.
 */
function serverNode(): string {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 12)) return process.execPath;
  const pinned = path.join(ROOT, 'node_modules/.bin/node');
  return fs.existsSync(pinned) ? pinned : process.execPath;
}

/** `npm test` builds first; a single file run by hand builds only if nothing is built yet. */
export function ensureBuilt(): void {
  if (!fs.existsSync(MAIN)) {
    execFileSync(serverNode(), [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** When the process ended (Date.now()). */
  at: number;
}

export interface TollgateProcess {
  child: ChildProcess;
  port: number;
  adminPort: number;
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Resolves once a stdout line contains `text`; rejects after `timeoutMs` or if the process ends first. */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
  /** SIGKILL if still running (test clean-up). */
  kill(): void;
}

export interface ProcessOptions {
  /** Variables for the server; a value of undefined removes a default. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Whether to use TEST_DATABASE_URL when set (default true); false keeps the embedded database. */
  sharedDatabase?: boolean;
}

/** Runs `node dist/src/main.js` as `npm start` does, on free loopback ports. */
export async function spawnTollgate(options: ProcessOptions = {}): Promise<TollgateProcess> {
  ensureBuilt();
  const [port, adminPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
    HOST: '127.0.0.1',
    ADMIN_HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATA_DIR: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-process-')), 'data'),
    KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    LOG_LEVEL: 'info',
    ...(TEST_DATABASE_URL && options.sharedDatabase !== false ? { DATABASE_URL: TEST_DATABASE_URL } : {}),
    ...options.env,
  };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  const child = spawn(serverNode(), [MAIN], { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  let running = true;
  void exited.then(() => {
    running = false;
    for (const listener of listeners) listener();
  });

  const waitForLog = (text: string, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (stdout.includes(text)) done(resolve);
        else if (!running)
          done(() => reject(new Error(`the server ended before logging "${text}": ${stderr}${stdout}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no "${text}" within ${timeoutMs} ms: ${stderr}${stdout}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });

  return {
    child,
    port,
    adminPort,
    url: `http://127.0.0.1:${port}`,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForLog,
    kill: () => {
      if (running) child.kill('SIGKILL');
    },
  };
}

/**
 * Starts the server and waits until it listens. Its ports are found free by binding port 0 and
 * letting go (the issuer names the port, so the server cannot bind port 0 itself): in between,
 * another process — a test file running beside this one, listening on port 0 — can take one. The
 * server then stops at once saying so, and is started again on other ports, up to 3 times.
 */
export async function startTollgate(options: ProcessOptions = {}): Promise<TollgateProcess> {
  for (let attempt = 1; ; attempt += 1) {
    const server = await spawnTollgate(options);
    try {
      await server.waitForLog('Tollgate is listening', 120_000);
      return server;
    } catch (error) {
      server.kill();
      const portTaken = /a port is already in use/.test(server.stderr() + server.stdout());
      if (!portTaken || attempt === 3) throw error;
      await server.exited;
    }
  }
}

/** Every path under `root` (itself included) with its permission bits. */
export function modesUnder(root: string): { path: string; mode: number; directory: boolean }[] {
  const found: { path: string; mode: number; directory: boolean }[] = [];
  const pending = [root];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const stat = fs.lstatSync(next);
    found.push({ path: next, mode: stat.mode & 0o777, directory: stat.isDirectory() });
    if (stat.isDirectory()) for (const name of fs.readdirSync(next)) pending.push(path.join(next, name));
  }
  return found;
}
