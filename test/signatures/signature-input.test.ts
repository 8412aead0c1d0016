import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { hmacQuestion, signaturePaths, signingPartner, type SigningPartner } from './signature-helpers.js';

let server: TestServer;
let partner: SigningPartner;
let paths: { lookup: string; verify: string };

beforeAll(async () => {
  server = await startServer();
  partner = await signingPartner(server);
  paths = await signaturePaths(server);
});

afterAll(() => server?.close());

/** Anything a caller may send as a parameter: text, a real keyid made hostile, a JSON value of another type. */
const hostileText = () =>
  fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.constantFrom(partner.hmac.keyid, partner.ed25519.keyid),
    fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 3, unit: 'binary' })).map(([at, text]) => {
      const keyid = partner.hmac.keyid;
      return keyid.slice(0, at % keyid.length) + text + keyid.slice((at % keyid.length) + 1);
    }),
  );
const jsonValue = () =>
  fc.oneof(
    hostileText(),
    fc.integer(),
    fc.double(),
    fc.constant(null),
    fc.array(fc.string()),
    fc.dictionary(fc.string(), fc.string()),
  );

function expectVerdict(response: { status: number; body: unknown; headers: Record<string, string> }): void {
  expect(response.headers['cache-control']).toBe('no-store');
  if (response.status === 200) expect(response.body).toEqual({ active: false });
  else {
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect((response.body as { error: string }).error).toBe('invalid_request');
  }
}

const FIELDS = ['keyid', 'audience', 'nonce', 'created', 'signature_base', 'signature'] as const;

describe('the signature endpoints under hostile input', () => {
  it('answer 200 {active:false} or 400 invalid_request to any form, never a 5xx and never active', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('lookup' as const, 'verify' as const),
        fc.record(
          Object.fromEntries(FIELDS.map((name) => [name, fc.option(fc.array(hostileText(), { maxLength: 2 }))])),
        ),
        async (endpoint, fields) => {
          // A valid question with hostile parameters in place of its own.
          const form = new URLSearchParams();
          const good = hmacQuestion(partner) as Record<string, string>;
          for (const name of FIELDS) {
            const values = (fields as Record<string, string[] | null>)[name] ?? [good[name]!];
            for (const value of values) form.append(name, value);
          }
          fc.pre(FIELDS.some((name) => (fields as Record<string, string[] | null>)[name] !== null));
          const response = await server.public().post(paths[endpoint]).type('form').send(form.toString());
          if (response.status === 200 && response.body.active === true) {
            // Only when the hostile parameters left the question valid: one real keyid, the real audience.
            expect([partner.hmac.keyid, partner.ed25519.keyid]).toContain(form.get('keyid'));
            expect(form.getAll('keyid')).toHaveLength(1);
            expect(form.getAll('audience')).toEqual([partner.api.identifier]);
            return;
          }
          expectVerdict(response);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('do the same for any JSON document', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('lookup' as const, 'verify' as const),
        fc.dictionary(fc.constantFrom(...FIELDS, '__proto__', 'constructor'), jsonValue()),
        fc.boolean(),
        async (endpoint, document, asObject) => {
          const body = asObject ? JSON.stringify(document) : JSON.stringify(Object.values(document)[0] ?? null);
          const response = await server
            .public()
            .post(paths[endpoint])
            .set('content-type', 'application/json')
            .send(body);
          expectVerdict(response);
        },
      ),
      { numRuns: 200 },
    );
    expect(server.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50)).toEqual([]);
    expect(server.logs.join('\n')).not.toContain(partner.hmac.secret);
  });
});
