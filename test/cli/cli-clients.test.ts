import { beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import type { TestServer } from '../helpers/server.js';
import { expectFailure, runAgainst, tollgate, tollgateJson, useCliServer } from './cli-helpers.js';

const cli = useCliServer();
let server: TestServer;

beforeAll(() => {
  server = cli.server;
  runAgainst(cli);
});

function token(clientId: string, secret: string) {
  return server.public().post('/token').auth(clientId, secret).type('form').send({ grant_type: 'client_credentials' });
}

describe('tollgate clients', () => {
  const prefix = unique('clc');
  const scope = `${prefix}:read`;
  const name = unique('cli-client-');
  let clientId: string;
  let secret: string;

  beforeAll(async () => {
    const api = await server.admin('post', '/apis', {
      identifier: `https://${prefix}.example.com`,
      scopes: [scope, `${prefix}:write`],
    });
    expect(api.status, JSON.stringify(api.body)).toBe(201);
  });

  it('create --json prints client_id and client_secret, and the secret gets a token', async () => {
    const client = await tollgateJson([
      'clients',
      'create',
      '--name',
      name,
      '--grant-types',
      'client_credentials',
      '--scopes',
      scope,
    ]);
    expect(client.client_id).toEqual(expect.stringMatching(/^client_/));
    expect(client.client_secret).toEqual(expect.stringMatching(/^tgs_/));
    expect(client).toMatchObject({ name, grant_types: ['client_credentials'], scopes: [scope] });
    clientId = String(client.client_id);
    secret = String(client.client_secret);

    const response = await token(clientId, secret);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.access_token).toEqual(expect.any(String));
    expect(response.body.scope).toBe(scope);
  });

  it('list and show never print the secret', async () => {
    const clients = await tollgateJson<Record<string, unknown>[]>(['clients', 'list']);
    expect(clients.find((client) => client.client_id === clientId)).toMatchObject({ name, scopes: [scope] });
    expect(JSON.stringify(clients)).not.toContain(secret);

    const shown = await tollgateJson(['clients', 'show', clientId]);
    expect(shown).toMatchObject({ client_id: clientId, name });
    expect(shown).not.toHaveProperty('client_secret');
    expect(shown).not.toHaveProperty('secret_hash');

    const table = await tollgate(['clients', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toContain('CLIENT_ID');
    expect(table.stdout).toContain(clientId);
    expect(table.stdout).not.toContain(secret);
  });

  it('create without --json shows the secret once, with a notice', async () => {
    const run = await tollgate([
      'clients',
      'create',
      '--name',
      unique('cli-client-'),
      '--grant-types',
      'client_credentials',
      '--scopes',
      scope,
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const shown = /client_secret:\s*(tgs_\S+)/.exec(run.stdout)?.[1];
    expect(shown, run.stdout).toBeDefined();
    expect(run.stdout.split(shown!)).toHaveLength(2); // printed exactly once
    const id = /client_(?:id:\s*)?(client_\S+)/.exec(run.stdout)?.[1];
    expect(id, run.stdout).toBeDefined();
    expect((await token(id!, shown!)).status).toBe(200);
  });

  it('create --public makes a client with no secret', async () => {
    const client = await tollgateJson([
      'clients',
      'create',
      '--name',
      unique('cli-spa-'),
      '--grant-types',
      'authorization_code',
      '--redirect-uris',
      'http://127.0.0.1:8765/cb',
      '--public',
    ]);
    expect(client).toMatchObject({
      public: true,
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1:8765/cb'],
    });
    expect(client).not.toHaveProperty('client_secret');
  });

  it('reports what the server refuses on stderr', async () => {
    const unknownScope = unique('nobody:');
    const run = await tollgate([
      'clients',
      'create',
      '--name',
      unique('c'),
      '--grant-types',
      'client_credentials',
      '--scopes',
      unknownScope,
      '--json',
    ]);
    expect(expectFailure(run)).toContain(unknownScope);

    const localhost = await tollgate([
      'clients',
      'create',
      '--name',
      unique('c'),
      '--grant-types',
      'authorization_code',
      '--redirect-uris',
      'http://localhost:8080/cb',
    ]);
    expect(expectFailure(localhost)).toContain('127.0.0.1');
  });

  it('rotate-secret prints a different secret; the old one stops working, the new one works', async () => {
    const rotated = await tollgateJson(['clients', 'rotate-secret', clientId]);
    expect(rotated.client_id).toBe(clientId);
    expect(rotated.client_secret).toEqual(expect.stringMatching(/^tgs_/));
    expect(rotated.client_secret).not.toBe(secret);

    const old = await token(clientId, secret);
    expect(old.status).toBe(401);
    expect(old.body.error).toBe('invalid_client');
    secret = String(rotated.client_secret);
    expect((await token(clientId, secret)).status).toBe(200);
  });

  it('update --disable stops the client getting tokens; --enable lets it again', async () => {
    const disabled = await tollgateJson(['clients', 'update', clientId, '--disable']);
    expect(disabled).toMatchObject({ client_id: clientId, disabled: true });
    const refused = await token(clientId, secret);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');

    const enabled = await tollgateJson(['clients', 'update', clientId, '--enable', '--name', `${name}-renamed`]);
    expect(enabled).toMatchObject({ disabled: false, name: `${name}-renamed` });
    expect((await token(clientId, secret)).status).toBe(200);

    const both = await tollgate(['clients', 'update', clientId, '--disable', '--enable']);
    expectFailure(both);
    expect((await server.admin('get', `/clients/${clientId}`)).body.disabled).toBe(false);
  });

  it('--rate-limit sets the client limit, shown as written; update --rate-limit none removes it', async () => {
    const created = await tollgateJson([
      'clients',
      'create',
      '--name',
      unique('cli-limited-'),
      '--grant-types',
      'client_credentials',
      '--scopes',
      scope,
      '--rate-limit',
      '1/h',
    ]);
    expect(created.rate_limit).toBe('1/h');
    const limitedId = String(created.client_id);
    const limitedSecret = String(created.client_secret);
    expect((await token(limitedId, limitedSecret)).status).toBe(200);
    expect((await token(limitedId, limitedSecret)).status).toBe(429);

    const shown = await tollgate(['clients', 'show', limitedId]);
    expect(shown.stdout).toMatch(/rate_limit:\s+1\/h/);

    const changed = await tollgateJson(['clients', 'update', limitedId, '--rate-limit', '600/min']);
    expect(changed.rate_limit).toBe('600/min');
    const removed = await tollgateJson(['clients', 'update', limitedId, '--rate-limit', 'none']);
    expect(removed.rate_limit).toBeNull();
    expect((await token(limitedId, limitedSecret)).status).toBe(200);
  });

  it('refuses a --rate-limit that is not a rate, naming the option, before any request', async () => {
    // Nothing listens there: a request would fail with a connection error instead.
    const nowhere = { TOLLGATE_ADMIN_URL: 'http://127.0.0.1:1' };
    for (const [bad, says] of [
      ['10', 'N/s, N/min or N/h'],
      ['10/day', 'N/s, N/min or N/h'],
      ['fast', 'N/s, N/min or N/h'],
      ['0/s', 'at least 1'],
    ]) {
      const message = expectFailure(await tollgate(['clients', 'update', clientId, '--rate-limit', bad!], nowhere));
      expect(message, bad).toMatch(/^tollgate: --rate-limit: /);
      expect(message, bad).toContain(says);
    }
    const create = await tollgate(
      ['clients', 'create', '--name', 'x', '--grant-types', 'client_credentials', '--rate-limit', '5/week'],
      nowhere,
    );
    expect(expectFailure(create)).toMatch(/^tollgate: --rate-limit: /);
  });

  it('delete removes the client and its secret stops working', async () => {
    const run = await tollgate(['clients', 'delete', clientId]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(clientId);
    expect((await server.admin('get', `/clients/${clientId}`)).status).toBe(404);
    const refused = await token(clientId, secret);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');

    expect(expectFailure(await tollgate(['clients', 'show', clientId]))).toContain(clientId);
  });
});
