import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

// What the CLI's test files share: a server to talk to, and `tollgate ARGS` run the way a user runs it.

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/tollgate.js');
const BUILT_CLI = path.join(ROOT, 'dist/src/cli/main.js');

/**
 * The Node that runs the CLI: this one, as `npx tollgate` would, when it is new enough for
 * bin/tollgate.js (npm scripts put the project's pinned Node first on PATH); otherwise the pinned
 * Node itself, so running vitest by hand under an older system Node still tests the CLI.
 */
export function cliNode(): string {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 12)) return process.execPath;
  const pinned = path.join(ROOT, 'node_modules/.bin/node');
  return fs.existsSync(pinned) ? pinned : process.execPath;
}

/** The test server and the directory the CLI runs in, set once the file's beforeAll has run. */
export interface CliHarness {
  server: TestServer;
  /** A directory with no admin-token file, so nothing is picked up from ./data by accident. */
  emptyDir: string;
}

/** Starts a server for this test file (and builds the CLI if it is not built). */
export function useCliServer(): CliHarness {
  const harness = {} as CliHarness;
  beforeAll(async () => {
    if (!fs.existsSync(BUILT_CLI)) {
      await promisify(execFile)(
        cliNode(),
        [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
        { cwd: ROOT },
      );
    }
    harness.server = await startServer();
    harness.emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-cli-'));
  }, 180_000);
  afterAll(() => harness.server?.close());
  return harness;
}

let current: CliHarness | undefined;

/** The harness `tollgate` and `tollgateJson` run against; each test file sets its own. */
export function runAgainst(harness: CliHarness): void {
  current = harness;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `tollgate ARGS` the way a user does, against the test server. `env` overrides the
 * connection variables; a value of undefined removes the variable. Asynchronous on purpose: the
 * server answering the CLI runs in this very process.
 */
export function tollgate(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<Run> {
  const { server, emptyDir } = current!;
  const merged: NodeJS.ProcessEnv = {
    ...process.env,
    TOLLGATE_ADMIN_URL: server.adminUrl,
    TOLLGATE_ADMIN_TOKEN: server.adminToken,
    DATA_DIR: emptyDir,
    ...env,
  };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return new Promise((resolve, reject) => {
    const child = spawn(cliNode(), [BIN, ...args], {
      cwd: emptyDir,
      env: merged,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A successful --json run: exit 0, nothing on stderr, and stdout is exactly one JSON document. */
export async function tollgateJson<T = Record<string, unknown>>(
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string,
): Promise<T> {
  const run = await tollgate([...args, '--json'], env, input);
  expect(run.stderr, `stderr of tollgate ${args.join(' ')}`).toBe('');
  expect(run.code, `exit code of tollgate ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as T;
}

/** A failed run: non-zero exit, nothing on stdout, a message on stderr; returns the message's first line. */
export function expectFailure(run: Run): string {
  expect(run.code, `expected a non-zero exit; stdout: ${run.stdout}`).not.toBe(0);
  expect(run.code).not.toBeNull();
  expect(run.stdout).toBe('');
  const message = run.stderr.trim();
  expect(message).not.toBe('');
  expect(message).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
  return message.split('\n')[0]!;
}
