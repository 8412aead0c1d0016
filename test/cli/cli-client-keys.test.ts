import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import { createApi, type ApiFixture } from '../helpers/fixtures.js';
import { partnerKey, refusedKeys, secretClient, type KeyJson } from '../clients/client-key-helpers.js';
import { expectFailure, runAgainst, tollgate, tollgateJson, useCliServer } from './cli-helpers.js';

/** `tollgate clients add-key|list-keys|remove-key` and `clients create --auth-method … --public-key FILE`. */

const cli = useCliServer();
let server: TestServer;
let api: ApiFixture;
let dir: string;
/** Nothing listens there: a command that gets this far would fail with "cannot reach". */
const NOWHERE = { TOLLGATE_ADMIN_URL: 'http://127.0.0.1:9' };

beforeAll(async () => {
  server = cli.server;
  runAgainst(cli);
  api = await createApi(server);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-keys-'));
});

/** Writes text to a file of its own; its path. */
function file(text: string, name = `key-${Math.random().toString(36).slice(2)}.pem`): string {
  const written = path.join(dir, name);
  fs.writeFileSync(written, text);
  return written;
}

describe('tollgate clients add-key, list-keys, remove-key', () => {
  it.each([
    ['Ed25519 PEM', () => partnerKey('ed25519'), 'pem' as const],
    ['P-256 JWK', () => partnerKey('p256'), 'jwk' as const],
    ['RSA 2048 PEM', () => partnerKey('rsa'), 'pem' as const],
  ])('registers a %s and answers keyid, alg, thumbprint, created_at', async (_what, make, form) => {
    const key = make();
    const clientId = await secretClient(server);
    const added = await tollgateJson<KeyJson>(['clients', 'add-key', clientId, '--public-key', file(key[form])]);
    expect(Object.keys(added).sort()).toEqual(['alg', 'created_at', 'keyid', 'thumbprint']);
    expect(added.alg).toBe(key.alg);
    expect(await tollgateJson<KeyJson[]>(['clients', 'list-keys', clientId])).toEqual([added]);
    // The same, as the admin API has it.
    expect((await server.admin('get', `/clients/${clientId}/keys`)).body).toEqual([added]);
  });

  it('generates an HMAC secret shown once, for people and --json; list-keys never shows it', async () => {
    const clientId = await secretClient(server);
    const added = await tollgateJson<KeyJson>(['clients', 'add-key', clientId, '--hmac']);
    expect(Object.keys(added)).toEqual(['keyid', 'alg', 'secret', 'created_at']);
    expect(added).toMatchObject({ alg: 'hmac-sha256', secret: expect.stringMatching(/^tgh_[A-Za-z0-9_-]{43}$/) });

    const human = await tollgate(['clients', 'add-key', clientId, '--hmac']);
    expect(human.code, human.stderr).toBe(0);
    expect(/^secret: (tgh_\S+)$/m.exec(human.stdout)?.[1]).toMatch(/^tgh_[A-Za-z0-9_-]{43}$/);
    expect(human.stdout).toContain('shown once');

    for (const args of [
      ['clients', 'list-keys', clientId],
      ['clients', 'list-keys', clientId, '--json'],
    ]) {
      const run = await tollgate(args);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(added.keyid);
      expect(run.stdout).not.toContain('tgh_');
    }
    expect(server.logs.join('')).not.toContain(added.secret!.slice(4));
  });

  it('removes a key, and says so for people', async () => {
    const clientId = await secretClient(server);
    const a = await tollgateJson<KeyJson>(['clients', 'add-key', clientId, '--hmac']);
    const b = await tollgateJson<KeyJson>([
      'clients',
      'add-key',
      clientId,
      '--public-key',
      file(partnerKey('ed25519').pem),
    ]);
    const removed = await tollgateJson<KeyJson>(['clients', 'remove-key', clientId, a.keyid]);
    expect(removed).toEqual({ keyid: a.keyid, alg: 'hmac-sha256', created_at: a.created_at });
    const human = await tollgate(['clients', 'remove-key', clientId, b.keyid]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`Removed key ${b.keyid}`);
    expect((await tollgate(['clients', 'list-keys', clientId])).stdout.trim()).toBe('(none)');
    expect(expectFailure(await tollgate(['clients', 'remove-key', clientId, a.keyid]))).toContain(
      `has no key "${a.keyid}"`,
    );
  });

  it("answers the admin API's refusals: the same key twice, a public client", async () => {
    const clientId = await secretClient(server);
    const pem = file(partnerKey('p256').pem);
    await tollgateJson(['clients', 'add-key', clientId, '--public-key', pem]);
    expect(expectFailure(await tollgate(['clients', 'add-key', clientId, '--public-key', pem]))).toMatch(
      /already registered/,
    );
  });

  it.each(refusedKeys().map((refused) => [refused.what, refused] as const))(
    'refuses %s before any HTTP call, naming --public-key',
    async (_what, refused) => {
      const message = expectFailure(
        await tollgate(['clients', 'add-key', 'client_x', '--public-key', file(refused.text)], NOWHERE),
      );
      expect(message).toMatch(/^tollgate: --public-key /);
      expect(message).toMatch(refused.says);
    },
  );

  it('refuses bad arguments before any HTTP call', async () => {
    const pem = file(partnerKey('ed25519').pem);
    const cases: [string[], RegExp][] = [
      [
        ['clients', 'add-key', 'client_x'],
        /give a public key \(--public-key: PEM or JWK\) or ask for an HMAC secret \(--hmac\)/,
      ],
      [['clients', 'add-key', 'client_x', '--public-key', pem, '--hmac'], /give --public-key or --hmac, not both/],
      [
        ['clients', 'add-key', 'client_x', '--public-key', path.join(dir, 'missing.pem')],
        /--public-key: cannot read .*ENOENT/,
      ],
      [['clients', 'add-key', '--hmac'], /expected one ID/],
      [['clients', 'list-keys'], /expected one ID/],
      [['clients', 'remove-key', 'client_x'], /expected CLIENT_ID and KEYID/],
      [['clients', 'remove-key', 'client_x', 'ck_a', 'ck_b'], /expected CLIENT_ID and KEYID/],
      [
        ['clients', 'create', '--name', 'x', '--grant-types', 'client_credentials', '--auth-method', 'tls_client_auth'],
        /a tls_client_auth client needs the subject its certificate carries: --tls-subject/,
      ],
      [
        [
          'clients',
          'create',
          '--name',
          'x',
          '--grant-types',
          'client_credentials',
          '--auth-method',
          'private_key_jwt',
          '--public-key',
          file(refusedKeys()[0]!.text),
        ],
        /--public-key .*2048/,
      ],
      [
        [
          'clients',
          'create',
          '--name',
          'x',
          '--grant-types',
          'client_credentials',
          '--auth-method',
          'private_key_jwt',
          '--public',
        ],
        /give --public or --auth-method, not both/,
      ],
    ];
    const create = ['clients', 'create', '--name', 'x', '--grant-types', 'client_credentials'];
    cases.push(
      [[...create, '--auth-method', 'private_key_jwt'], /needs its first public key \(--public-key\)/],
      [[...create, '--public-key', pem], /--public-key at creation is for --auth-method private_key_jwt/],
    );
    for (const [args, expected] of cases) {
      const message = expectFailure(await tollgate(args, NOWHERE));
      expect(message, args.join(' ')).toMatch(expected);
    }
  });

  it('has help naming the new commands and options', async () => {
    const group = await tollgate(['clients', '--help'], NOWHERE);
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('tollgate clients add-key CLIENT_ID [--public-key FILE] [--hmac] [--json]');
    expect(group.stdout).toContain('tollgate clients list-keys CLIENT_ID [--json]');
    expect(group.stdout).toContain('tollgate clients remove-key CLIENT_ID KEYID [--json]');
    expect(group.stdout).toContain(
      '[--auth-method client_secret_basic|private_key_jwt|tls_client_auth|self_signed_tls_client_auth] [--public-key FILE]',
    );
    const add = await tollgate(['clients', 'add-key', '--help'], NOWHERE);
    expect(add.stdout).toContain('POST /clients/:id/keys');
  });
});

describe('tollgate clients create --auth-method private_key_jwt --public-key FILE', () => {
  it('creates a client with no secret and its first key', async () => {
    const key = partnerKey('ed25519');
    const created = await tollgateJson<Record<string, unknown>>([
      'clients',
      'create',
      '--name',
      'Acme signer',
      '--grant-types',
      'client_credentials',
      '--scopes',
      api.scopes[0]!,
      '--auth-method',
      'private_key_jwt',
      '--public-key',
      file(key.jwk, 'acme.jwk'),
    ]);
    expect(created.token_endpoint_auth_method).toBe('private_key_jwt');
    expect(created).not.toHaveProperty('client_secret');
    const keys = await tollgateJson<KeyJson[]>(['clients', 'list-keys', created.client_id as string]);
    expect(keys).toEqual([expect.objectContaining({ alg: 'ed25519' })]);

    const human = await tollgate([
      'clients',
      'create',
      '--name',
      'Acme signer 2',
      '--grant-types',
      'client_credentials',
      '--auth-method',
      'private_key_jwt',
      '--public-key',
      file(partnerKey('p256').pem),
    ]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('token_endpoint_auth_method:');
    expect(human.stdout).not.toContain('client_secret');
  });
});
