import { describe, expect, it } from 'vitest';
import {
  ERROR_DESCRIPTION,
  FORM,
  PASSWORD,
  REDIRECT_URI,
  malformedInputSuite,
  refusedByHttpParser,
} from '../helpers/malformed-input-suite.js';
import type { RawResponse } from '../helpers/raw-http.js';

// Hand-written cases; the property-based sweep is test/http/malformed-input-sweep.test.ts.

const suite = malformedInputSuite();
const { errorLines, publicRequest, adminRequest } = suite;

function expectOAuthError(response: RawResponse, status = 400, error = 'invalid_request'): void {
  expect(response.status, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(response.body)).toMatchObject({ error, error_description: expect.any(String) });
}

describe('a NUL byte never reaches the database (issue 14 item 5)', () => {
  const nul = 'a%00b';

  it("in the token endpoint's client_id, code, refresh_token, device_code: invalid_request, no error logged", async () => {
    const basic = `client_id=${suite.service.client_id}&client_secret=${suite.service.client_secret}`;
    const bodies = [
      `grant_type=client_credentials&client_id=${nul}&client_secret=x`,
      `grant_type=authorization_code&code=${nul}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_verifier=${'v'.repeat(43)}&${basic}`,
      `grant_type=refresh_token&refresh_token=${nul}&${basic}`,
      `grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=${nul}&client_id=${suite.deviceClientId}`,
    ];
    for (const body of bodies) {
      expectOAuthError(
        await publicRequest({ method: 'POST', target: suite.endpoints.token_endpoint!, headers: FORM, body }),
      );
    }
    expect(errorLines()).toEqual([]);
  });

  it('in the token of introspection and revocation, and the client_id of device authorization and PAR', async () => {
    const basic = `client_id=${suite.service.client_id}&client_secret=${suite.service.client_secret}`;
    expectOAuthError(
      await publicRequest({
        method: 'POST',
        target: suite.endpoints.introspection_endpoint!,
        headers: FORM,
        body: `token=${nul}&${basic}`,
      }),
    );
    expectOAuthError(
      await publicRequest({
        method: 'POST',
        target: suite.endpoints.revocation_endpoint!,
        headers: FORM,
        body: `token=${nul}&${basic}`,
      }),
    );
    expectOAuthError(
      await publicRequest({
        method: 'POST',
        target: suite.endpoints.device_authorization_endpoint!,
        headers: FORM,
        body: `client_id=${nul}`,
      }),
    );
    expectOAuthError(
      await publicRequest({
        method: 'POST',
        target: suite.endpoints.pushed_authorization_request_endpoint!,
        headers: FORM,
        body: `client_id=${suite.webClientId}&state=${nul}&response_type=code`,
      }),
    );
    expect(errorLines()).toEqual([]);
  });

  it("in the authorization request's client_id, state, nonce or request_uri: a readable 400 page", async () => {
    const valid = `response_type=code&client_id=${suite.webClientId}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&scope=openid&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256`;
    const queries = [
      `response_type=code&client_id=${nul}`,
      `${valid}&state=${nul}`,
      `${valid}&nonce=${nul}`,
      `client_id=${suite.webClientId}&request_uri=urn:ietf:params:oauth:request_uri:${nul}`,
    ];
    for (const query of queries) {
      const response = await publicRequest({
        method: 'GET',
        target: `${suite.endpoints.authorization_endpoint}?${query}`,
      });
      expect(response.status, query).toBe(400);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('Invalid request');
    }
    expect(errorLines()).toEqual([]);
  });

  it('in an end-session state or an interaction id: a page, not a 500', async () => {
    for (const target of [`${suite.endpoints.end_session_endpoint}?state=${nul}`, `/interaction/${nul}`]) {
      const response = await publicRequest({ method: 'GET', target });
      expect(response.status, target).toBe(400);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
    }
  });

  it('in an admin route id or a field: 400 invalid_request', async () => {
    for (const collection of ['apis', 'clients', 'users']) {
      for (const method of ['GET', 'PATCH', 'DELETE']) {
        const response = await adminRequest({
          method,
          target: `/${collection}/${nul}`,
          headers: { 'content-type': 'application/json' },
          body: method === 'PATCH' ? '{}' : undefined,
        });
        expectOAuthError(response);
      }
    }
    expectOAuthError(
      await adminRequest({
        method: 'POST',
        target: '/users',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'a\u0000b', password: PASSWORD }),
      }),
    );
    expectOAuthError(
      await adminRequest({
        method: 'PATCH',
        target: `/clients/${suite.webClientId}`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x\u0000' }),
      }),
    );
    expect(errorLines()).toEqual([]);
  });
});

describe('text that is not UTF-8, or not well encoded, is refused where it enters', () => {
  it('malformed percent-encoding, overlong or surrogate UTF-8, and raw bytes: invalid_request naming the parameter', async () => {
    for (const value of ['%zz', '%', '%FF', '%C0%AF', '%ED%A0%80', '%E2%82']) {
      const response = await publicRequest({
        method: 'POST',
        target: suite.endpoints.token_endpoint!,
        headers: FORM,
        body: `grant_type=client_credentials&client_id=${value}`,
      });
      expectOAuthError(response);
      expect(JSON.parse(response.body).error_description).toContain("'client_id'");
    }
    const rawBytes = Buffer.concat([
      Buffer.from('grant_type=client_credentials&client_id='),
      Buffer.from([0xff, 0xfe]),
    ]);
    expectOAuthError(
      await publicRequest({ method: 'POST', target: suite.endpoints.token_endpoint!, headers: FORM, body: rawBytes }),
    );
    expectOAuthError(
      await publicRequest({ method: 'GET', target: `${suite.endpoints.userinfo_endpoint}?x=%ED%A0%80` }),
    );
  });

  it("an error_description that quotes what the client sent stays within RFC 6749 §5.2's characters", async () => {
    const body = `grant_type=client_credentials&client_id=${suite.service.client_id}&client_secret=${suite.service.client_secret}&scope=..%2F..%2F`;
    const response = await publicRequest({
      method: 'POST',
      target: suite.endpoints.token_endpoint!,
      headers: FORM,
      body,
    });
    expectOAuthError(response, 400, 'invalid_scope');
    const description = JSON.parse(response.body).error_description as string;
    expect(description).toMatch(ERROR_DESCRIPTION);
    expect(description).toContain("scope '../../' is not");
  });

  it('well-formed UTF-8 passes: a state with "é" reaches the sign-in page', async () => {
    const query = `response_type=code&client_id=${suite.webClientId}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&scope=openid&state=caf%C3%A9+au+lait&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256`;
    const response = await publicRequest({
      method: 'GET',
      target: `${suite.endpoints.authorization_endpoint}?${query}`,
    });
    expect(response.status, response.body).toBe(303);
    expect(response.headers.location).toMatch(/\/interaction\//);
  });
});

describe('a form read by the input guard and handed on', () => {
  it('keeps a repeated parameter repeated: oidc-provider refuses it (RFC 6749 §3.2), for a parameter with and without "="', async () => {
    const credentials = `client_id=${suite.service.client_id}&client_secret=${suite.service.client_secret}`;
    for (const body of [
      `grant_type=client_credentials&grant_type=client_credentials&${credentials}`,
      `grant_type=client_credentials&scope&scope=a&${credentials}`,
    ]) {
      const response = await publicRequest({
        method: 'POST',
        target: suite.endpoints.token_endpoint!,
        headers: FORM,
        body,
      });
      expectOAuthError(response);
      expect(JSON.parse(response.body).error_description, body).toMatch(/provided twice/);
    }
  });
});

describe('a request target without an absolute path (found by the sweep)', () => {
  it('a target Koa finds no path in ("//#?x=@", "*") is 400 invalid_request; "//host/…" is just not found', async () => {
    for (const target of ['//#?client_id=@&client_id=x', '*']) {
      const response = await publicRequest({ method: 'GET', target });
      if (refusedByHttpParser(response)) continue;
      expectOAuthError(response);
    }
    for (const target of ['//', '//example.com/token']) {
      expect((await publicRequest({ method: 'GET', target })).status, target).toBe(404);
    }
    expect(errorLines()).toEqual([]);
  });
});

describe('the device pages (issue 14 item 5)', () => {
  it('GET on the device authorization endpoint is 405 with Allow: POST, as JSON', async () => {
    const response = await publicRequest({ method: 'GET', target: suite.endpoints.device_authorization_endpoint! });
    expectOAuthError(response, 405);
    expect(response.headers.allow).toBe('POST');
  });

  it('posting the code form without a session, or with an unknown one, is a page that starts again', async () => {
    for (const cookie of [undefined, '_session=unknown-session-id; _session.sig=bogus']) {
      const response = await publicRequest({
        method: 'POST',
        target: '/device',
        headers: { ...FORM, ...(cookie ? { cookie } : {}) },
        body: 'xsrf=abc&user_code=BCDF-GHJK',
      });
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('This page has expired');
      expect(response.body).toContain('href="/device"');
    }
    const resume = await publicRequest({ method: 'GET', target: '/device/some-interaction-uid' });
    expect(resume.status).toBe(400);
    expect(errorLines()).toEqual([]);
  });

  it('the code page itself still works and its form posts with the session it started', async () => {
    const page = await suite.server.public().get('/device');
    expect(page.status).toBe(200);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.text)?.[1];
    const cookies = (page.headers['set-cookie'] as unknown as string[])
      .map((cookie) => cookie.split(';')[0])
      .join('; ');
    const wrongCode = await publicRequest({
      method: 'POST',
      target: '/device',
      headers: { ...FORM, cookie: cookies },
      body: `xsrf=${xsrf}&user_code=BCDF-GHJK`,
    });
    expect(wrongCode.status).toBe(400);
    expect(wrongCode.body).toContain('That code is not valid');
  });
});
