import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../helpers/database.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'harbor-lilac-93-fjord';

/** Issue 14 item 14: what the admin API stores is what was sent, and means one thing. */
describe('admin input', () => {
  let server: TestServer;
  let adminPort: number;

  beforeAll(async () => {
    server = await startServer();
    adminPort = Number(new URL(server.adminUrl).port);
  });

  afterAll(() => server?.close());

  function postBytes(route: string, body: Buffer) {
    return rawRequest(adminPort, {
      method: 'POST',
      target: route,
      body,
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
    });
  }

  describe('text that is not UTF-8 is refused, not stored as U+FFFD', () => {
    it('invalid UTF-8 bytes in a JSON body: 400, and nothing was created', async () => {
      const name = unique('bytes-');
      const body = Buffer.concat([
        Buffer.from(`{"name":"${name}`),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('","grant_types":["client_credentials"]}'),
      ]);
      const response = await postBytes('/clients', body);
      expect(response.status, response.body).toBe(400);
      expect(JSON.parse(response.body)).toMatchObject({
        error: 'invalid_request',
        error_description: 'the request body is not valid UTF-8',
      });
      const clients = (await server.admin('get', '/clients')).body as Array<{ name: string }>;
      expect(clients.some((client) => client.name.startsWith(name))).toBe(false);
    });

    it('a lone surrogate or a control character in a field: 400 naming the field', async () => {
      const surrogate = await postBytes(
        '/clients',
        Buffer.from(`{"name":"${unique('s-')}\\ud800","grant_types":["client_credentials"]}`),
      );
      expect(surrogate.status).toBe(400);
      expect(JSON.parse(surrogate.body).error_description).toMatch(/^name .*UTF-8/);
      const control = await server.admin('post', '/apis', {
        identifier: `https://${unique('c')}.example.com`,
        scopes: [`${unique('x')}:read\u0007`],
      });
      expect(control.status).toBe(400);
      expect(control.body.error_description).toMatch(/^scopes.*control character/);
    });

    it('well-formed UTF-8 is kept as sent', async () => {
      const name = unique('Café Ünïcødé 🚀 ');
      const response = await server.admin('post', '/clients', { name, grant_types: ['client_credentials'] });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      expect((await server.admin('get', `/clients/${response.body.client_id}`)).body.name).toBe(name);
    });
  });

  describe('redirect URIs are stored as they will be matched (RFC 6749 §3.1.2, RFC 9700 §4.1.3)', () => {
    function createWebClient(redirectUris: string[]) {
      return server.admin('post', '/clients', {
        name: unique('web-'),
        grant_types: ['authorization_code'],
        redirect_uris: redirectUris,
      });
    }

    it('refuses user information in a redirect URI', async () => {
      for (const uri of [
        'https://user:secret@app.example.com/cb',
        'https://app.example.com@evil.example/cb',
        'https://@app.example.com/cb',
      ]) {
        const response = await createWebClient([uri]);
        expect(response.status, uri).toBe(400);
        expect(response.body.error_description).toContain('user information');
      }
    });

    it('refuses a URI not in normal form, naming the form to register', async () => {
      const cases: Array<[string, string]> = [
        ['HTTPS://App.Example.com:443/cb', 'https://app.example.com/cb'],
        ['https://app.example.com', 'https://app.example.com/'],
        ['https://app.example.com/a/../cb', 'https://app.example.com/cb'],
        ['https://app.example.com/c b', 'https://app.example.com/c%20b'],
      ];
      for (const [given, normal] of cases) {
        const response = await createWebClient([given]);
        expect(response.status, given).toBe(400);
        expect(response.body.error_description).toContain(`register it as "${normal}"`);
      }
      const patch = await server.admin(
        'patch',
        `/clients/${(await createWebClient(['https://app.example.com/cb'])).body.client_id}`,
        { redirect_uris: ['https://APP.example.com/cb'] },
      );
      expect(patch.status).toBe(400);
    });

    it('stores a URI in normal form exactly as given, query included', async () => {
      const uris = ['https://app.example.com/callback?tenant=a', 'https://app.example.com/caf%C3%A9'];
      const response = await createWebClient(uris);
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      expect(response.body.redirect_uris).toEqual(uris);
    });
  });

  describe("a username cannot be another user's id", () => {
    it('refuses usernames shaped like user ids, on create and on update', async () => {
      const first = await server.admin('post', '/users', { username: unique('grace-'), password: PASSWORD });
      expect(first.status).toBe(201);
      const firstId = first.body.id as string;

      const impostor = await server.admin('post', '/users', { username: firstId, password: PASSWORD });
      expect(impostor.status).toBe(400);
      expect(impostor.body.error_description).toContain('user_');

      const second = await server.admin('post', '/users', { username: unique('hopper-'), password: PASSWORD });
      for (const username of [firstId, `USER_${firstId.slice(5)}`]) {
        const rename = await server.admin('patch', `/users/${second.body.id}`, { username });
        expect(rename.status, username).toBe(400);
      }
      // The id still names the first user, and only it.
      expect((await server.admin('get', `/users/${firstId}`)).body.username).toBe(first.body.username);
    });
  });
});
