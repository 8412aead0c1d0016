import { createHmac, generateKeyPairSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createVerifier, ResourceServerError, type SignatureCaller, type Verifier } from '../src/index.js';
import { sha256Digest, signByHand, type Alg } from './helpers/rfc9421.js';

// The signature client's own behaviour — what it asks, when, how often — against a FAKE of only
// Tollgate's two signature endpoints (signature_key_lookup_endpoint, signature_verification_endpoint),
// written from the protocol agreed for issue 18. It counts questions, which a real Tollgate cannot.
// The same rules against the real server: test/signatures/library*.test.ts at the repository root.

const AUDIENCE = 'https://orders.example.com';
const URL_ = 'https://orders.example.com/orders';
const BODY = '{"sku":"A-1","qty":2}';
const SECRET = 'tgh_' + 'x'.repeat(43);

interface FakeKey {
  alg: Alg;
  client: string;
  public?: KeyObject;
  private: KeyObject | Buffer;
}

/** The fake: a discovery document and the two endpoints, answering from `keys`; `down` answers 503. */
class FakeTollgate {
  readonly server = http.createServer((request, response) => void this.#handle(request, response));
  readonly keys = new Map<string, FakeKey>();
  readonly nonces = new Set<string>();
  readonly questions: { path: string; form: URLSearchParams }[] = [];
  down = false;
  /** Holds lookups until released: makes "one question in flight" observable. */
  hold: Promise<void> | undefined;
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get lookups() {
    return this.questions.filter((question) => question.path === '/signature-keys/lookup');
  }

  get verifications() {
    return this.questions.filter((question) => question.path === '/signatures/verify');
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    if (request.url === '/.well-known/openid-configuration')
      return send(200, {
        issuer: this.url,
        signature_key_lookup_endpoint: `${this.url}/signature-keys/lookup`,
        signature_verification_endpoint: `${this.url}/signatures/verify`,
      });
    let text = '';
    for await (const chunk of request) text += String(chunk);
    const form = new URLSearchParams(text);
    this.questions.push({ path: request.url!, form });
    if (this.down) return send(503, { error: 'temporarily_unavailable' });
    const keyid = form.get('keyid')!;
    const key = this.keys.get(keyid);
    if (key === undefined || !form.getAll('audience').includes(AUDIENCE)) return send(200, { active: false });
    const fields = {
      active: true,
      keyid,
      alg: key.alg,
      client_id: key.client,
      sub: key.client,
      scope: 'orders:read',
      aud: AUDIENCE,
    };
    if (request.url === '/signature-keys/lookup') {
      await this.hold;
      const jwk = key.public?.export({ format: 'jwk' });
      return send(200, { ...fields, ...(jwk ? { jwk } : {}), cache_seconds: 5 });
    }
    if (key.alg === 'hmac-sha256') {
      const expected = createHmac('sha256', key.private as Buffer)
        .update(form.get('signature_base')!)
        .digest();
      const given = Buffer.from(form.get('signature') ?? '', 'base64');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return send(200, { active: false });
    }
    const nonce = `${keyid} ${form.get('nonce')}`;
    if (this.nonces.has(nonce)) return send(200, { active: false });
    this.nonces.add(nonce);
    return send(200, fields);
  }
}

let tollgate: FakeTollgate;
const ed = generateKeyPairSync('ed25519');
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KEYS: Record<Alg, FakeKey> = {
  ed25519: { alg: 'ed25519', client: 'client_ed', private: ed.privateKey, public: ed.publicKey },
  'ecdsa-p256-sha256': {
    alg: 'ecdsa-p256-sha256',
    client: 'client_p',
    private: p256.privateKey,
    public: p256.publicKey,
  },
  'rsa-pss-sha512': { alg: 'rsa-pss-sha512', client: 'client_r', private: rsa.privateKey, public: rsa.publicKey },
  'hmac-sha256': { alg: 'hmac-sha256', client: 'client_h', private: Buffer.from(SECRET, 'utf8') },
};

let counter = 0;
/** A POST with a JSON body, signed by the tests' hand-written signer. */
function signed(alg: Alg, keyid = `ck_${alg}`, overrides: { body?: string; nonce?: string } = {}) {
  counter += 1;
  const nonce = overrides.nonce ?? `nonce-${counter}-${Date.now()}`;
  const created = Math.floor(Date.now() / 1000);
  const digest = sha256Digest(BODY);
  const { headers } = signByHand(
    alg,
    KEYS[alg].private,
    [
      ['"@method"', 'POST'],
      ['"@target-uri"', URL_],
      ['"content-digest"', digest],
    ],
    `;created=${created};keyid="${keyid}";alg="${alg}";nonce="${nonce}"`,
  );
  return {
    method: 'POST',
    url: URL_,
    headers: { ...headers, 'content-digest': digest, 'content-type': 'application/json' },
    body: overrides.body ?? BODY,
  };
}

const verify = (verifier: Verifier, request: ReturnType<typeof signed>, scopes?: string[]) =>
  verifier.verifyRequest(request, { schemes: ['signature'], ...(scopes ? { scopes } : {}) });

async function refusal(promise: Promise<unknown>): Promise<ResourceServerError> {
  const error = await promise.then(
    (caller) => expect.unreachable(`accepted: ${JSON.stringify(caller)}`),
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(ResourceServerError);
  return error as ResourceServerError;
}

beforeAll(async () => {
  tollgate = new FakeTollgate();
  await tollgate.start();
});

afterAll(async () => {
  tollgate.server.closeAllConnections();
  await new Promise((resolve) => tollgate.server.close(resolve));
});

beforeEach(() => {
  tollgate.keys.clear();
  for (const alg of Object.keys(KEYS) as Alg[]) tollgate.keys.set(`ck_${alg}`, KEYS[alg]);
  tollgate.questions.length = 0;
  tollgate.down = false;
  tollgate.hold = undefined;
});

describe('the signature client against a fake of the two endpoints', () => {
  it.each(Object.keys(KEYS) as Alg[])('accepts %s: public keys verified here, HMAC by the endpoint', async (alg) => {
    const verifier = createVerifier({ issuer: tollgate.url, audience: AUDIENCE });
    const caller = (await verify(verifier, signed(alg), ['orders:read'])) as SignatureCaller;
    expect(caller).toMatchObject({ scheme: 'signature', keyid: `ck_${alg}`, alg, client_id: KEYS[alg].client });
    const [question] = tollgate.verifications;
    // The secret's check is Tollgate's; a public key's signature never goes there, only its nonce.
    expect(question!.form.has('signature_base')).toBe(alg === 'hmac-sha256');
    expect(question!.form.has('signature')).toBe(alg === 'hmac-sha256');
    expect(question!.form.getAll('audience')).toEqual([AUDIENCE]);
    expect(caller.evidence === undefined).toBe(alg === 'hmac-sha256');
  });

  it('a tampered body is refused without a question; the same nonce twice is refused by the endpoint', async () => {
    const verifier = createVerifier({ issuer: tollgate.url, audience: AUDIENCE });
    const error = await refusal(verify(verifier, signed('ed25519', undefined, { body: BODY.replace('2', '3') })));
    expect(error.status).toBe(401);
    expect(tollgate.questions).toEqual([]);
    const request = signed('ed25519');
    await verify(verifier, request);
    expect((await refusal(verify(verifier, request))).code).toBe('invalid_signature');
  });

  it('one lookup per keyid in flight, then the cached answer; an unknown keyid is cached too', async () => {
    const verifier = createVerifier({ issuer: tollgate.url, audience: AUDIENCE });
    let release!: () => void;
    tollgate.hold = new Promise((resolve) => (release = resolve));
    const pending = Array.from({ length: 5 }, () => verify(verifier, signed('ed25519')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await Promise.all(pending);
    await verify(verifier, signed('ed25519'));
    expect(tollgate.lookups).toHaveLength(1);
    expect(tollgate.verifications).toHaveLength(6);
    for (let index = 0; index < 2; index += 1)
      expect((await refusal(verify(verifier, signed('ed25519', 'ck_unknown')))).description).toMatch(/unknown key/);
    expect(tollgate.lookups).toHaveLength(2);
  });

  it('Tollgate answering 503 is a 503, not cached: the next request asks again', async () => {
    const verifier = createVerifier({ issuer: tollgate.url, audience: AUDIENCE });
    tollgate.down = true;
    const error = await refusal(verify(verifier, signed('hmac-sha256')));
    expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable', wwwAuthenticate: undefined });
    tollgate.down = false;
    await verify(verifier, signed('hmac-sha256'));
    expect(tollgate.lookups).toHaveLength(2);
  });

  it("a lookup whose jwk does not fit the alg it names is Tollgate's error: 503, never a verification", async () => {
    const verifier = createVerifier({ issuer: tollgate.url, audience: AUDIENCE });
    tollgate.keys.set('ck_ed25519', { ...KEYS.ed25519, public: p256.publicKey });
    expect((await refusal(verify(verifier, signed('ed25519')))).status).toBe(503);
    expect(tollgate.verifications).toEqual([]);
  });
});
