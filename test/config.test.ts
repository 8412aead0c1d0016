import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const KEY = Buffer.alloc(32, 7).toString('base64url');

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected loadConfig(${JSON.stringify(env)}) to throw`);
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      issuer: 'http://localhost:3000',
      trustProxy: 0,
      adminPort: 3001,
      adminHost: '127.0.0.1',
      adminToken: undefined,
      databaseUrl: undefined,
      keyEncryptionKey: undefined,
      keyEncryptionKeyPrevious: undefined,
      jwksMaxAge: 300,
      keyRotationDays: 30,
      logLevel: 'info',
      auditRetentionDays: 90,
    });
    expect(config.dataDir).toBe(path.resolve('./data'));
  });

  it('derives the default issuer from PORT', () => {
    expect(loadConfig({ PORT: '8080' }).issuer).toBe('http://localhost:8080');
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({
      PORT: '',
      ISSUER: '',
      LOG_LEVEL: '',
      DATABASE_URL: '',
      KEY_ENCRYPTION_KEY: '',
      ADMIN_TOKEN: '',
    });
    expect(config).toMatchObject({
      port: 3000,
      issuer: 'http://localhost:3000',
      logLevel: 'info',
      databaseUrl: undefined,
      adminToken: undefined,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '4000',
      HOST: '0.0.0.0',
      ISSUER: 'https://auth.example.com',
      TRUST_PROXY: 'true',
      ADMIN_PORT: '4001',
      ADMIN_HOST: '0.0.0.0',
      ADMIN_TOKEN: 'a-long-enough-admin-token',
      DATABASE_URL: 'postgres://db.example.com/tollgate',
      DATA_DIR: '/var/lib/tollgate',
      KEY_ENCRYPTION_KEY: KEY,
      KEY_ROTATION_DAYS: '7',
      JWKS_MAX_AGE: '60',
      LOG_LEVEL: 'debug',
      AUDIT_RETENTION_DAYS: '30',
    });
    expect(config).toMatchObject({
      port: 4000,
      host: '0.0.0.0',
      issuer: 'https://auth.example.com',
      trustProxy: 1,
      adminPort: 4001,
      adminHost: '0.0.0.0',
      adminToken: 'a-long-enough-admin-token',
      databaseUrl: 'postgres://db.example.com/tollgate',
      dataDir: '/var/lib/tollgate',
      keyRotationDays: 7,
      jwksMaxAge: 60,
      logLevel: 'debug',
      auditRetentionDays: 30,
    });
    expect(config.keyEncryptionKey?.equals(Buffer.alloc(32, 7))).toBe(true);
  });

  it('trims a trailing slash from ISSUER', () => {
    expect(loadConfig({ ISSUER: 'https://auth.example.com/' }).issuer).toBe('https://auth.example.com');
    expect(loadConfig({ ISSUER: 'https://auth.example.com/tenant-a/' }).issuer).toBe(
      'https://auth.example.com/tenant-a',
    );
  });

  it('requires KEY_ENCRYPTION_KEY with DATABASE_URL, and says how to make one', () => {
    const error = configError({ DATABASE_URL: 'postgres://db.example.com/tollgate' });
    expect(error.message).toContain('KEY_ENCRYPTION_KEY');
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).toMatch(/32/);
    expect(
      loadConfig({ DATABASE_URL: 'postgres://db.example.com/tollgate', KEY_ENCRYPTION_KEY: KEY }).databaseUrl,
    ).toBe('postgres://db.example.com/tollgate');
  });

  it('rejects a KEY_ENCRYPTION_KEY that is not 32 bytes', () => {
    for (const bad of [Buffer.alloc(16, 1).toString('base64url'), Buffer.alloc(33, 1).toString('base64url'), 'short']) {
      const error = configError({ KEY_ENCRYPTION_KEY: bad });
      expect(error.message).toContain('KEY_ENCRYPTION_KEY');
      expect(error.message).toContain('32');
    }
    expect(configError({ KEY_ENCRYPTION_KEY_PREVIOUS: 'short' }).message).toContain('KEY_ENCRYPTION_KEY_PREVIOUS');
  });

  it('rejects a PORT that is not a port number', () => {
    expect(configError({ PORT: 'abc' }).message).toContain('PORT');
    expect(configError({ PORT: '70000' }).message).toContain('PORT');
    expect(configError({ ADMIN_PORT: '-1' }).message).toContain('ADMIN_PORT');
  });

  it('rejects an unknown LOG_LEVEL, listing the valid ones', () => {
    const error = configError({ LOG_LEVEL: 'loud' });
    expect(error.message).toContain('LOG_LEVEL');
    expect(error.message).toContain('info');
  });

  it('rejects an ISSUER with a query or fragment, or that is not an http(s) URL', () => {
    for (const bad of [
      'https://auth.example.com?tenant=a',
      'https://auth.example.com#x',
      'auth.example.com',
      'ftp://auth.example.com',
    ]) {
      expect(configError({ ISSUER: bad }).message, bad).toContain('ISSUER');
    }
  });

  it('reads TRUST_PROXY as a count of proxies: false is 0, true is 1, a number is that many', () => {
    for (const [raw, hops] of [
      ['false', 0],
      ['0', 0],
      ['no', 0],
      ['true', 1],
      ['yes', 1],
      ['1', 1],
      ['2', 2],
      ['16', 16],
    ] as const) {
      expect(loadConfig({ TRUST_PROXY: raw }).trustProxy).toBe(hops);
    }
    for (const raw of ['17', '-1', '1.5', 'two', '10.0.0.1'])
      expect(configError({ TRUST_PROXY: raw }).message).toContain('TRUST_PROXY');
  });

  it('rejects other malformed values with a message naming the variable', () => {
    expect(configError({ JWKS_MAX_AGE: '1.5' }).message).toContain('JWKS_MAX_AGE');
    expect(configError({ KEY_ROTATION_DAYS: '0' }).message).toContain('KEY_ROTATION_DAYS');
    expect(configError({ AUDIT_RETENTION_DAYS: '0' }).message).toBe(
      'AUDIT_RETENTION_DAYS must be between 1 and 3650, got 0',
    );
    expect(configError({ AUDIT_RETENTION_DAYS: 'forever' }).message).toContain('AUDIT_RETENTION_DAYS');
    expect(configError({ TRUST_PROXY: 'maybe' }).message).toContain('TRUST_PROXY');
    expect(configError({ DATABASE_URL: 'mysql://db.example.com/x', KEY_ENCRYPTION_KEY: KEY }).message).toContain(
      'DATABASE_URL',
    );
    expect(configError({ ADMIN_TOKEN: 'short' }).message).toContain('ADMIN_TOKEN');
  });

  it('reads the rate limits and the Redis store, defaulting to the database', () => {
    expect(loadConfig({})).toMatchObject({
      clientAuthFailureLimit: { points: 20, durationSeconds: 300 },
      apiKeyVerificationFailureLimit: { points: 300, durationSeconds: 60 },
      signatureVerificationFailureLimit: { points: 300, durationSeconds: 60 },
      redisUrl: undefined,
      redisKeyPrefix: 'tollgate:',
    });
    expect(
      loadConfig({
        CLIENT_AUTH_FAILURE_LIMIT: '5/h',
        API_KEY_VERIFICATION_FAILURE_LIMIT: '1000/5min',
        SIGNATURE_VERIFICATION_FAILURE_LIMIT: '50/s',
        REDIS_URL: 'redis://cache.example.com:6379/2',
        REDIS_KEY_PREFIX: 'tg-eu:',
      }),
    ).toMatchObject({
      clientAuthFailureLimit: { points: 5, durationSeconds: 3600 },
      apiKeyVerificationFailureLimit: { points: 1000, durationSeconds: 300 },
      signatureVerificationFailureLimit: { points: 50, durationSeconds: 1 },
      redisUrl: 'redis://cache.example.com:6379/2',
      redisKeyPrefix: 'tg-eu:',
    });
    expect(loadConfig({ REDIS_URL: '' }).redisUrl).toBeUndefined();
    expect(configError({ CLIENT_AUTH_FAILURE_LIMIT: '20 per minute' }).message).toMatch(/^CLIENT_AUTH_FAILURE_LIMIT: /);
    expect(configError({ CLIENT_AUTH_FAILURE_LIMIT: '20/48h' }).message).toContain('24 hours');
    expect(configError({ REDIS_URL: 'localhost:6379' }).message).toContain('REDIS_URL');
    expect(configError({ API_KEY_VERIFICATION_FAILURE_LIMIT: 'lots' }).message).toMatch(
      /^API_KEY_VERIFICATION_FAILURE_LIMIT: /,
    );
    expect(configError({ SIGNATURE_VERIFICATION_FAILURE_LIMIT: 'lots' }).message).toMatch(
      /^SIGNATURE_VERIFICATION_FAILURE_LIMIT: /,
    );
  });
});

const root = path.resolve(import.meta.dirname, '..');
/**
 * The minimum Node as package.json's tollgate.minimumNode states it, e.g. "22.12". Read here rather
 * than imported from src/runtime-check.ts, which would end this test process on an older Node.
 */
const MINIMUM_NODE_VERSION = (
  JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { tollgate: { minimumNode: string } }
).tollgate.minimumNode;

/** A Node older than the minimum on this machine, if there is one. */
function findOldNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!fs.existsSync(candidate)) continue;
    const result = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    const match = /^v(\d+)\.(\d+)\./.exec(result.stdout ?? '');
    if (!match) continue;
    const [major, minor] = [Number(match[1]), Number(match[2])];
    const [needMajor, needMinor] = MINIMUM_NODE_VERSION.split('.').map(Number) as [number, number];
    if (major < needMajor || (major === needMajor && minor < needMinor)) return candidate;
  }
  return undefined;
}

const oldNode = findOldNode();

describe('runtime check', () => {
  it.skipIf(!oldNode)(
    'an old Node exits at once with a message saying what to run instead',
    () => {
      const main = path.join(root, 'dist/src/main.js');
      if (!fs.existsSync(main)) {
        const build = spawnSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], {
          cwd: root,
          encoding: 'utf8',
        });
        expect(build.status, build.stdout + build.stderr).toBe(0);
      }
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-old-node-'));
      const result = spawnSync(oldNode!, [main], {
        cwd: root,
        encoding: 'utf8',
        timeout: 20_000,
        // Were the check missing, the server must not grab real ports or data.
        env: { PATH: process.env.PATH, PORT: '0', ADMIN_PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      });
      expect(result.signal, 'the process did not exit by itself').toBeNull();
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(MINIMUM_NODE_VERSION);
      expect(result.stderr).toContain(spawnSync(oldNode!, ['--version'], { encoding: 'utf8' }).stdout.trim());
      expect(result.stderr).toMatch(/npm start/);
      expect(result.stdout).toBe('');
      // It stopped before touching anything.
      expect(fs.readdirSync(dataDir)).toEqual([]);
    },
    60_000,
  );
});

/**
 * The minimum Node is stated once, in package.json's tollgate.minimumNode: the runtime check and
 * the `tollgate` command read it there. Proven on a copy of each beside a package.json
 * that asks for a Node no machine has.
 */
describe('the minimum Node version, from package.json', () => {
  const pinnedNode = path.join(root, 'node_modules/.bin/node');
  const node = fs.existsSync(pinnedNode) ? pinnedNode : process.execPath;

  function copyBeside(file: string, minimumNode: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-minimum-node-'));
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', tollgate: { minimumNode } }));
    const copy = path.join(dir, file);
    fs.mkdirSync(path.dirname(copy));
    fs.copyFileSync(path.join(root, file), copy);
    return copy;
  }

  it('is what the README says', () => {
    expect(fs.readFileSync(path.join(root, 'README.md'), 'utf8')).toContain(`Node.js ${MINIMUM_NODE_VERSION} or newer`);
  });

  it('the runtime check refuses a Node below what package.json asks for, and passes one above', () => {
    // Run as TypeScript by the pinned Node 24 (type stripping), as vitest runs src/.
    const tooNew = spawnSync(node, [copyBeside('src/runtime-check.ts', '99.0')], { encoding: 'utf8', timeout: 20_000 });
    expect(tooNew.status).toBe(1);
    expect(tooNew.stderr).toContain('Tollgate needs Node.js 99.0 or newer');
    const old = spawnSync(node, [copyBeside('src/runtime-check.ts', '18.0')], { encoding: 'utf8', timeout: 20_000 });
    expect(old.stderr).toBe('');
    expect(old.status).toBe(0);
  });

  it('the tollgate command refuses a Node below what package.json asks for', () => {
    const result = spawnSync(node, [copyBeside('bin/tollgate.js', '99.0'), '--help'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('tollgate: needs Node.js 99.0 or newer');
    expect(result.stdout).toBe('');
  });
});
