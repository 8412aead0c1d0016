/**
 * `npx tollgate …` prints the command's answer and nothing of npm's.
 *
 * Why there was noise: `npx tollgate` names the root package's own `bin`, so npm's exec
 * (libnpmexec) installs the project into its npx cache (`$npm_config_cache/_npx/<hash>`) on the
 * first call from a checkout, and that install checks each package's `engines` against the Node
 * running npm, which is the system Node, not the Node 24 the project pins for everything it runs.
 * Each run here uses a fresh npm cache, so it is that first call, as for a newcomer; and npm runs
 * on the PATH a user's shell has (without the project's node_modules/.bin, whose `node` is the
 * pinned Node 24), so on a machine whose system Node is older than 22.12 the old noise shows.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { startServer, type TestServer } from '../helpers/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The PATH of a user's shell: npm and npx (which run this test) put node_modules/.bin dirs first. */
const USER_PATH = (process.env.PATH ?? '')
  .split(path.delimiter)
  .filter((dir) => !dir.endsWith(`${path.sep}node_modules${path.sep}.bin`) && !dir.endsWith(`${path.sep}node-gyp-bin`))
  .join(path.delimiter);

let server: TestServer;
/** Holds the fresh npm caches and a DATA_DIR with no admin-token file. */
let scratch: string;

beforeAll(async () => {
  const cli = path.join(ROOT, 'dist/src/cli/main.js');
  if (!fs.existsSync(cli)) {
    const build = spawnSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(build.status, build.stdout + build.stderr).toBe(0);
  }
  server = await startServer();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-npx-'));
}, 180_000);

afterAll(async () => {
  await server?.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npx tollgate ARGS` typed in the project folder, on a first call (a fresh npm cache). */
function npxTollgate(args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: USER_PATH,
    npm_config_cache: fs.mkdtempSync(path.join(scratch, 'npm-cache-')),
    // A registry query about npm's own version is not this project's to silence.
    npm_config_update_notifier: 'false',
    TOLLGATE_ADMIN_URL: server.adminUrl,
    TOLLGATE_ADMIN_TOKEN: server.adminToken,
    DATA_DIR: scratch,
  };
  return new Promise((resolve, reject) => {
    // Asynchronous: the server answering the command runs in this very process.
    const child = spawn('npx', ['tollgate', ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 100_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npx tollgate on the system Node', () => {
  it('--help prints the help and nothing else', async () => {
    const run = await npxTollgate(['--help']);
    expect(run.stderr).not.toMatch(/EBADENGINE|npm warn/i);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^tollgate — manage a Tollgate authorization server through its admin API\n/);
    expect(run.stdout).toContain('tollgate apis create|list|show|update|delete');
  }, 120_000);

  it('a real command against the server prints only its answer', async () => {
    const identifier = `https://${unique('quiet')}.example.com`;
    const created = await server.admin('post', '/apis', { identifier, scopes: ['orders:read'] });
    expect(created.status).toBe(201);
    const run = await npxTollgate(['apis', 'show', created.body.id as string, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(created.body);
  }, 120_000);

  it('a bad command still starts stderr with its one-line error', async () => {
    const run = await npxTollgate(['frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/EBADENGINE|npm (warn|error)/i);
    expect(run.stderr.split('\n')[0]).toBe('tollgate: unknown command "frobnicate"');
    expect(run.stdout).toBe('');
  }, 120_000);
});
