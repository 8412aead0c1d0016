import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { createPartner, issueKey, verificationPath, type Partner } from './api-key-helpers.js';

let server: TestServer;
let partner: Partner;
let key: string;
let path: string;

beforeAll(async () => {
  server = await startServer();
  partner = await createPartner(server);
  key = (await issueKey(server, partner)).key!;
  path = await verificationPath(server);
});

afterAll(() => server?.close());

/** Anything a caller may send as a parameter: text, a key made hostile, a JSON value of another type. */
const hostileText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.nat().map((n) => key.slice(0, n % (key.length + 1))),
  fc
    .tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 3, unit: 'binary' }))
    .map(([at, text]) => key.slice(0, at % key.length) + text + key.slice((at % key.length) + 1)),
);
const jsonValue = fc.oneof(
  hostileText,
  fc.integer(),
  fc.constant(null),
  fc.array(fc.string()),
  fc.dictionary(fc.string(), fc.string()),
);

function expectVerdict(response: { status: number; body: unknown; headers: Record<string, string> }): void {
  expect(response.headers['cache-control']).toBe('no-store');
  if (response.status === 200) expect(response.body).toEqual({ active: false });
  else {
    expect(response.status).toBe(400);
    expect((response.body as { error: string }).error).toBe('invalid_request');
  }
}

describe('the verification endpoint under hostile input', () => {
  it('answers 200 {active:false} or 400 invalid_request to any form, never a 5xx and never active', async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, hostileText, async (token, audience) => {
        fc.pre(token !== key);
        const response = await server.public().post(path).type('form').send({ token, audience });
        expectVerdict(response);
      }),
      { numRuns: 150 },
    );
  });

  it('does the same for any JSON document', async () => {
    await fc.assert(
      fc.asyncProperty(jsonValue, jsonValue, fc.boolean(), async (token, audience, asObject) => {
        fc.pre(token !== key);
        const body = asObject ? JSON.stringify({ token, audience }) : JSON.stringify(token);
        const response = await server.public().post(path).set('content-type', 'application/json').send(body);
        expectVerdict(response);
      }),
      { numRuns: 150 },
    );
    expect(server.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50)).toEqual([]);
  });
});
