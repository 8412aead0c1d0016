import { execFile, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidSignatureError } from '../src/errors.js';
import { MemoryReplayCache } from '../src/index.js';
import { localSignatureKey } from '../src/signature-algorithms.js';
import { verifySignedRequest } from '../src/verify-signature.js';

// The README's partner examples (curl + openssl, Python), run as written against a local HTTP
// server that records what arrives; the recorded requests are then verified by the library's core.
// Each is skipped where its tools are missing (CI installs openssl and curl).

const works = (command: string, args: string[]) => spawnSync(command, args).status === 0;
const SCRIPTS = {
  'sign-ed25519.sh': {
    language: 'sh',
    command: 'bash',
    available: works('openssl', ['version']) && works('curl', ['--version']),
  },
  'sign-ed25519.py': {
    language: 'python',
    command: 'python3',
    available: works('python3', ['-c', 'import cryptography']),
  },
} as const;
type Script = keyof typeof SCRIPTS;
const run = promisify(execFile);

/** The code block after the README's `<!-- name … -->` marker. */
function readmeBlock(name: Script): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const marker = `<!-- ${name}`;
  const start = readme.indexOf(marker);
  const match = new RegExp(`^[^\\n]*-->\\n\`\`\`${SCRIPTS[name].language}\\n([\\s\\S]*?)\\n\`\`\``).exec(
    readme.slice(start),
  );
  if (start === -1 || match === null) throw new Error(`the README has no ${name} block`);
  return `${match[1]}\n`;
}

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const recorded: Recorded[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    recorded.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
    res.end('recorded');
  });
});
const directory = mkdtempSync(join(tmpdir(), 'tollgate-sign-'));
const keys = generateKeyPairSync('ed25519');
const signatureKey = localSignatureKey('ed25519', keys.publicKey);
let origin: string;

beforeAll(async () => {
  for (const name of Object.keys(SCRIPTS) as Script[]) writeFileSync(join(directory, name), readmeBlock(name));
  writeFileSync(join(directory, 'partner-ed25519.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(directory, { recursive: true, force: true });
});

async function sendWith(script: Script, path: string, body?: string): Promise<Recorded> {
  const before = recorded.length;
  const { stdout } = await run(SCRIPTS[script].command, [join(directory, script)], {
    cwd: directory,
    env: {
      PATH: process.env.PATH,
      URL: `${origin}${path}`,
      KEYID: 'partner-key-1',
      ...(body === undefined ? {} : { BODY: body }),
    },
  });
  expect(stdout).toBe('recorded');
  expect(recorded).toHaveLength(before + 1);
  return recorded[before]!;
}

const verify = (request: Recorded, replayCache = new MemoryReplayCache()) =>
  verifySignedRequest(
    { method: request.method, url: `${origin}${request.path}`, headers: request.headers, body: request.body },
    { resolveKey: (keyid) => (keyid === 'partner-key-1' ? signatureKey : undefined), replayCache },
  );

describe.each(Object.keys(SCRIPTS) as Script[])('the README’s %s', (script) => {
  if (!SCRIPTS[script].available) {
    it.skip(`needs ${SCRIPTS[script].command} and its tools`, () => undefined);
    return;
  }

  it('sends a request the library verifies, with the evidence of what was signed', async () => {
    const request = await sendWith(script, '/orders?status=open');
    expect(request.body.toString()).toBe('{"sku":"A-1","qty":2}');
    const result = await verify(request);
    expect(result).toMatchObject({
      label: 'sig1',
      keyid: 'partner-key-1',
      alg: 'ed25519',
      components: ['"@method"', '"@target-uri"', '"content-digest"', '"content-type"'],
    });
    expect(result.signatureBase).toContain(`"@target-uri": ${origin}/orders?status=open\n`);
    expect(result.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('signs any body byte for byte (quotes, dollars, percent signs, non-ASCII)', async () => {
    const body = '{"note":"50% off $HOME \\"quoted\\" ünïcødé"}';
    const request = await sendWith(script, '/orders', body);
    expect(request.body.toString()).toBe(body);
    await expect(verify(request)).resolves.toMatchObject({ keyid: 'partner-key-1' });
  });

  it('what it sent is refused when replayed, when its body is changed, or at another URL', async () => {
    const request = await sendWith(script, '/orders');
    const cache = new MemoryReplayCache();
    await expect(verify(request, cache)).resolves.toBeDefined();
    await expect(verify(request, cache)).rejects.toThrow(InvalidSignatureError);
    await expect(verify({ ...request, body: Buffer.from('{"sku":"A-1","qty":20}') })).rejects.toThrow(
      /body does not match/,
    );
    await expect(verify({ ...request, path: '/refunds' })).rejects.toThrow(/does not verify/);
  });
});
