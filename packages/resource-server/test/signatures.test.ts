import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { parseDictionary, type InnerList } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import { contentDigest, contentDigestMismatch } from '../src/content-digest.js';
import { InvalidSignatureError } from '../src/errors.js';
import { IssuerUnavailableError, MemoryReplayCache, ResourceServerError, signRequest } from '../src/index.js';
import type { HttpRequest } from '../src/request.js';
import { localSignatureKey, type SignatureKey } from '../src/signature-algorithms.js';
import { headerRecord, signatureBase } from '../src/signature-base.js';
import { verifySignedRequest, type SignatureVerificationOptions } from '../src/verify-signature.js';
import {
  RFC_ED25519_PRIVATE,
  RFC_ED25519_PUBLIC,
  RFC_REQUEST,
  RFC_RSA_PSS_PUBLIC,
  RFC_SHARED_SECRET,
  sha256Digest,
  signByHand,
  verifyBase,
  type Alg,
} from './helpers/rfc9421.js';

// Signed requests (RFC 9421) as the library verifies and makes them. Every signature verified here
// is made by the hand-written signer of helpers/rfc9421.ts, and every signature signRequest makes
// is checked by its hand-written verifier: the library and the tests share no canonicalisation.

/** Close to the real clock: MemoryReplayCache forgets by Date.now(), so nonces must expire after it. */
const NOW = Math.floor(Date.now() / 1000);
const URL_ = 'https://api.example.com/orders?status=open';
const BODY = '{"sku":"A-1","qty":2}';

const ed25519 = { private: createPrivateKey(RFC_ED25519_PRIVATE), public: createPublicKey(RFC_ED25519_PUBLIC) };
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('ed25519');

const SIGNING: Record<Alg, { keyid: string; private: KeyObject | Buffer; public: KeyObject | Buffer }> = {
  ed25519: { keyid: 'key-ed25519', private: ed25519.private, public: ed25519.public },
  'ecdsa-p256-sha256': { keyid: 'key-p256', private: p256.privateKey, public: p256.publicKey },
  'rsa-pss-sha512': { keyid: 'key-rsa', private: rsa.privateKey, public: rsa.publicKey },
  'hmac-sha256': { keyid: 'key-hmac', private: RFC_SHARED_SECRET, public: RFC_SHARED_SECRET },
};
const ALGS = Object.keys(SIGNING) as Alg[];

const KEYS = new Map<string, SignatureKey>(
  ALGS.map((alg) => [SIGNING[alg].keyid, localSignatureKey(alg, SIGNING[alg].public)]),
);

function options(overrides: Partial<SignatureVerificationOptions> = {}): SignatureVerificationOptions {
  return { resolveKey: (keyid) => KEYS.get(keyid), replayCache: new MemoryReplayCache(), now: NOW, ...overrides };
}

let nonces = 0;
const freshNonce = () => `nonce-${process.pid}-${(nonces += 1)}`;

interface HandRequest {
  alg?: Alg;
  keyid?: string;
  method?: string;
  url?: string;
  /** `null`: no body at all. */
  body?: string | null;
  contentType?: string;
  created?: number;
  nonce?: string;
  /** Replaces the parameters after created;keyid;nonce (e.g. `;alg="ed25519"`). */
  extraParams?: string;
  /** Replaces the whole parameter string. */
  params?: string;
  /** Replaces the covered components. */
  components?: Array<[string, string]>;
  headers?: Record<string, string>;
  label?: string;
  signingKey?: KeyObject | Buffer;
}

/** A request signed by the hand-written signer: POST URL_ with a JSON body unless told otherwise. */
function handSigned(spec: HandRequest = {}) {
  const alg = spec.alg ?? 'ed25519';
  const keyid = spec.keyid ?? SIGNING[alg].keyid;
  const method = spec.method ?? 'POST';
  const url = spec.url ?? URL_;
  const body = spec.body === null ? undefined : (spec.body ?? BODY);
  const headers: Record<string, string> = { ...spec.headers };
  const components: Array<[string, string]> = [
    ['"@method"', method],
    ['"@target-uri"', url],
  ];
  if (body !== undefined) {
    headers['content-type'] = spec.contentType ?? 'application/json';
    headers['content-digest'] ??= sha256Digest(body);
    components.push(['"content-digest"', headers['content-digest']], ['"content-type"', headers['content-type']]);
  }
  const params =
    spec.params ??
    `;created=${spec.created ?? NOW};keyid="${keyid}";nonce="${spec.nonce ?? freshNonce()}"${spec.extraParams ?? ''}`;
  const signed = signByHand(
    alg,
    spec.signingKey ?? SIGNING[alg].private,
    spec.components ?? components,
    params,
    spec.label,
  );
  const request: HttpRequest = { method, url, headers: { ...headers, ...signed.headers } };
  if (body !== undefined) request.body = body;
  return { request, ...signed, headers: request.headers as Record<string, string | string[]> };
}

async function refused(promise: Promise<unknown>, description: RegExp): Promise<InvalidSignatureError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidSignatureError);
  expect(error).toBeInstanceOf(ResourceServerError);
  const refusal = error as InvalidSignatureError;
  expect(refusal).toMatchObject({ status: 401, code: 'invalid_signature' });
  expect(refusal.description).toMatch(description);
  expect(refusal.wwwAuthenticate).toMatch(/^Signature error="invalid_signature", error_description="[^"]+"$/);
  return refusal;
}

describe('RFC 9530 and RFC 9421 test vectors', () => {
  it('Content-Digest: the RFC 9530 example body has the published sha-256 and sha-512 digests', () => {
    expect(contentDigest(RFC_REQUEST.body)).toBe('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:');
    const both = `sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, ${RFC_REQUEST.headers['content-digest']}`;
    expect(contentDigestMismatch(both, RFC_REQUEST.body)).toBeUndefined();
    expect(contentDigestMismatch(both, Buffer.from(RFC_REQUEST.body))).toBeUndefined();
    // The RFC 9421 test request carries sha-512 alone: not what the contract asks for.
    expect(contentDigestMismatch(RFC_REQUEST.headers['content-digest'], RFC_REQUEST.body)).toMatch(/no sha-256/);
    // sha-512 alongside is checked, not ignored; unknown algorithms alongside are ignored.
    const badSha512 = `sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, sha-512=:${Buffer.alloc(64).toString('base64')}:`;
    expect(contentDigestMismatch(badSha512, RFC_REQUEST.body)).toMatch(/sha-512/);
    const withUnknown = 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, md5=:AAAA:';
    expect(contentDigestMismatch(withUnknown, RFC_REQUEST.body)).toBeUndefined();
    expect(contentDigestMismatch(withUnknown, RFC_REQUEST.body + ' ')).toMatch(/does not match/);
  });

  const canonical = {
    method: RFC_REQUEST.method,
    url: new URL(RFC_REQUEST.url),
    headers: headerRecord(RFC_REQUEST.headers),
  };
  const input = (member: string) => [...parseDictionary(member)][0]![1] as InnerList;

  it('B.2.6 (ed25519): the library builds the published base byte for byte, and the published signature verifies', () => {
    const [components, parameters] = input(
      'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
    );
    const { base } = signatureBase(canonical, components, parameters);
    expect(base).toBe(
      [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
      ].join('\n'),
    );
    const signature = 'wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==';
    expect(
      localSignatureKey('ed25519', RFC_ED25519_PUBLIC).verify(Buffer.from(base), Buffer.from(signature, 'base64')),
    ).toBe(true);
    // Ed25519 is deterministic: the hand-written signer reproduces the published signature.
    const hand = signByHand(
      'ed25519',
      ed25519.private,
      [
        ['"date"', 'Tue, 20 Apr 2021 02:07:55 GMT'],
        ['"@method"', 'POST'],
        ['"@path"', '/foo'],
        ['"@authority"', 'example.com'],
        ['"content-type"', 'application/json'],
        ['"content-length"', '18'],
      ],
      ';created=1618884473;keyid="test-key-ed25519"',
    );
    expect(hand.base).toBe(base);
    expect(hand.signature).toBe(signature);
  });

  it('B.2.5 (hmac-sha256): the published base and signature', () => {
    const [components, parameters] = input(
      'sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
    );
    const { base } = signatureBase(canonical, components, parameters);
    expect(base).toBe(
      [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@authority": example.com',
        '"content-type": application/json',
        '"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
      ].join('\n'),
    );
    const signature = Buffer.from('pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=', 'base64');
    expect(localSignatureKey('hmac-sha256', RFC_SHARED_SECRET).verify(Buffer.from(base), signature)).toBe(true);
    expect(verifyBase('hmac-sha256', RFC_SHARED_SECRET, base, signature)).toBe(true);
  });

  it('B.2.1 (rsa-pss-sha512, 64-byte salt): the published signature verifies over the published base', () => {
    const [components, parameters] = input(
      'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"',
    );
    const { base } = signatureBase(canonical, components, parameters);
    expect(base).toBe(
      '"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"',
    );
    const signature = Buffer.from(
      'd2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==',
      'base64',
    );
    expect(localSignatureKey('rsa-pss-sha512', RFC_RSA_PSS_PUBLIC).verify(Buffer.from(base), signature)).toBe(true);
    signature[0]! ^= 1;
    expect(localSignatureKey('rsa-pss-sha512', RFC_RSA_PSS_PUBLIC).verify(Buffer.from(base), signature)).toBe(false);
  });

  it('the RFC request is refused by the policy: it covers neither @method nor @target-uri and is from 2021', async () => {
    const request = {
      ...RFC_REQUEST,
      headers: {
        ...RFC_REQUEST.headers,
        'signature-input':
          'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
        signature: 'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:',
      },
    };
    await refused(verifySignedRequest(request, options()), /must cover @target-uri/);
  });
});

describe('verifySignedRequest accepts what an independent signer makes', () => {
  it.each(ALGS)('%s: a POST with a body, and the evidence an API keeps', async (alg) => {
    const { request, base, signature } = handSigned({ alg, nonce: `evidence-${alg}` });
    const result = await verifySignedRequest(request, options());
    expect(result).toEqual({
      label: 'sig1',
      keyid: SIGNING[alg].keyid,
      alg,
      created: NOW,
      nonce: `evidence-${alg}`,
      components: ['"@method"', '"@target-uri"', '"content-digest"', '"content-type"'],
      signatureBase: base,
      signature,
      signatureInput: (request.headers as Record<string, string>)['signature-input'],
    });
    expect(verifyBase(alg, SIGNING[alg].public, result.signatureBase, Buffer.from(result.signature, 'base64'))).toBe(
      true,
    );
  });

  it('a GET without a body needs only @method and @target-uri; a matching alg and a future expires are accepted', async () => {
    const { request } = handSigned({ method: 'GET', body: null, extraParams: `;alg="ed25519";expires=${NOW + 60}` });
    await expect(verifySignedRequest(request, options())).resolves.toMatchObject({ expires: NOW + 60 });
  });

  it('more components than required, with the parameters that apply to a request (@query-param name, sf, key, bs)', async () => {
    const { request } = handSigned({
      method: 'GET',
      body: null,
      headers: { 'x-dict': 'a=1,   b=?0' },
      components: [
        ['"@method"', 'GET'],
        ['"@target-uri"', URL_],
        ['"@query-param";name="status"', 'open'],
        ['"@authority"', 'api.example.com'],
        ['"x-dict";sf', 'a=1, b=?0'],
        ['"x-dict";key="b"', '?0'],
        ['"x-dict";bs', `:${Buffer.from('a=1,   b=?0').toString('base64')}:`],
      ],
    });
    await expect(verifySignedRequest(request, options())).resolves.toMatchObject({
      components: [
        '"@method"',
        '"@target-uri"',
        '"@query-param";name="status"',
        '"@authority"',
        '"x-dict";sf',
        '"x-dict";key="b"',
        '"x-dict";bs',
      ],
    });
  });

  it('created 299 s in the past or in the future is accepted', async () => {
    for (const created of [NOW - 299, NOW + 299]) {
      await expect(verifySignedRequest(handSigned({ created }).request, options())).resolves.toMatchObject({ created });
    }
  });

  it('any label, header names in any case, a Headers object and a Buffer body', async () => {
    const { request } = handSigned({ label: 'partner-sig' });
    const headers = new Headers(request.headers as Record<string, string>);
    await expect(
      verifySignedRequest({ ...request, headers, body: Buffer.from(BODY) }, options()),
    ).resolves.toMatchObject({ label: 'partner-sig' });
    const upper = Object.fromEntries(
      Object.entries(handSigned().request.headers).map(([name, value]) => [name.toUpperCase(), value]),
    );
    await expect(verifySignedRequest({ ...request, headers: upper }, options())).resolves.toBeDefined();
  });
});

describe('signRequest', () => {
  /** The base an independent verifier expects for what signRequest covers. */
  function expectedBase(method: string, url: string, headers: Record<string, string>, signatureInput: string): string {
    const params = signatureInput.replace(/^sig1=/, '');
    const lines = [`"@method": ${method}`, `"@target-uri": ${url}`];
    if (headers['Content-Digest'] !== undefined) lines.push(`"content-digest": ${headers['Content-Digest']}`);
    if (params.includes('"content-type"')) lines.push('"content-type": application/json');
    return [...lines, `"@signature-params": ${params}`].join('\n');
  }

  it.each(ALGS)('%s: what it signs verifies with node:crypto over a hand-built base', (alg) => {
    const headers = signRequest(
      { method: 'POST', url: URL_, headers: { 'Content-Type': 'application/json' }, body: BODY },
      { keyid: SIGNING[alg].keyid, key: SIGNING[alg].private, alg, created: NOW, nonce: 'n-1' },
    );
    expect(headers['Content-Digest']).toBe(sha256Digest(BODY));
    expect(headers['Signature-Input']).toBe(
      `sig1=("@method" "@target-uri" "content-digest" "content-type");created=${NOW};keyid="${SIGNING[alg].keyid}";alg="${alg}";nonce="n-1"`,
    );
    const signature = /^sig1=:([A-Za-z0-9+/]+=*):$/.exec(headers.Signature)?.[1];
    expect(signature).toBeDefined();
    const base = expectedBase('POST', URL_, headers as unknown as Record<string, string>, headers['Signature-Input']);
    expect(verifyBase(alg, SIGNING[alg].public, base, Buffer.from(signature!, 'base64'))).toBe(true);
  });

  it('the RFC 9530 digest of the RFC example body; no body, no Content-Digest and only @method and @target-uri', () => {
    const key = { keyid: 'k', key: ed25519.private, alg: 'ed25519' as const };
    expect(signRequest({ method: 'PUT', url: URL_, body: RFC_REQUEST.body }, key)['Content-Digest']).toBe(
      'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
    );
    const headers = signRequest({ method: 'GET', url: URL_ }, { ...key, created: NOW, nonce: 'n' });
    expect(headers).not.toHaveProperty('Content-Digest');
    expect(headers['Signature-Input']).toBe(
      `sig1=("@method" "@target-uri");created=${NOW};keyid="k";alg="ed25519";nonce="n"`,
    );
    const signature = Buffer.from(headers.Signature.slice('sig1=:'.length, -1), 'base64');
    expect(
      verifyBase('ed25519', ed25519.public, expectedBase('GET', URL_, {}, headers['Signature-Input']), signature),
    ).toBe(true);
  });

  it('a fresh 128-bit base64url nonce and the current time unless given', () => {
    const sign = () => signRequest({ method: 'GET', url: URL_ }, { keyid: 'k', key: ed25519.private, alg: 'ed25519' });
    const nonce = (headers: { 'Signature-Input': string }) => /;nonce="([^"]*)"/.exec(headers['Signature-Input'])?.[1];
    const [first, second] = [sign(), sign()];
    expect(nonce(first)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(nonce(first)).not.toBe(nonce(second));
    const created = Number(/;created=(\d+)/.exec(first['Signature-Input'])?.[1]);
    expect(Math.abs(created - Date.now() / 1000)).toBeLessThan(60);
  });

  it('round trip: PEM, JWK and KeyObject keys, verified by verifySignedRequest; the URL is normalised on both sides', async () => {
    const pem = ed25519.private.export({ type: 'pkcs8', format: 'pem' }) as string;
    const jwk = p256.privateKey.export({ format: 'jwk' });
    const cases = [
      { alg: 'ed25519' as const, key: pem },
      { alg: 'ecdsa-p256-sha256' as const, key: jwk },
      { alg: 'rsa-pss-sha512' as const, key: rsa.privateKey },
      { alg: 'hmac-sha256' as const, key: new Uint8Array(RFC_SHARED_SECRET) },
    ];
    for (const { alg, key } of cases) {
      const request = { method: 'POST', url: 'HTTPS://API.Example.com:443/orders?status=open#top', body: BODY };
      const headers = signRequest(request, { keyid: SIGNING[alg].keyid, key, alg });
      await expect(verifySignedRequest({ ...request, url: URL_, headers }, options())).resolves.toMatchObject({ alg });
    }
  });

  it('refuses keys that do not fit the algorithm, public keys, short secrets and bad parameters (TypeError)', () => {
    const request = { method: 'GET', url: URL_ };
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ keyid: 'k', key: p256.privateKey, alg: 'ed25519' }, /Ed25519 key/],
      [{ keyid: 'k', key: ed25519.private, alg: 'ecdsa-p256-sha256' }, /P-256 key/],
      [{ keyid: 'k', key: small, alg: 'rsa-pss-sha512' }, /at least 2048/],
      [{ keyid: 'k', key: ed25519.public, alg: 'ed25519' }, /private key/],
      [{ keyid: 'k', key: 'too short', alg: 'hmac-sha256' }, /at least 32 bytes/],
      [{ keyid: 'k', key: ed25519.private, alg: 'hmac-sha256' }, /secret/],
      [{ keyid: 'k', key: ed25519.private, alg: 'rsa-v1_5-sha256' }, /alg must be/],
      [{ keyid: '', key: ed25519.private, alg: 'ed25519' }, /keyid/],
      [{ keyid: 'k\n', key: ed25519.private, alg: 'ed25519' }, /keyid/],
      [{ keyid: 'k', key: ed25519.private, alg: 'ed25519', nonce: '"' + 'x'.repeat(300) }, /nonce/],
      [{ keyid: 'k', key: ed25519.private, alg: 'ed25519', created: 1.5 }, /created/],
    ];
    for (const [signOptions, message] of bad) {
      expect(() => signRequest(request, signOptions as never)).toThrow(message);
    }
    expect(() =>
      signRequest({ method: 'GET', url: '/orders' }, { keyid: 'k', key: ed25519.private, alg: 'ed25519' }),
    ).toThrow(/absolute/);
  });
});

describe('verifySignedRequest refuses, always with a 401 invalid_signature', () => {
  const verifyWith = (headers: Record<string, string | string[] | undefined>, base = handSigned()) =>
    verifySignedRequest({ ...base.request, headers: { ...base.headers, ...headers } }, options());

  it('missing or duplicated Signature and Signature-Input', async () => {
    const { headers } = handSigned();
    const input = headers['signature-input'] as string;
    const signature = headers.signature as string;
    await refused(verifyWith({ 'signature-input': undefined, signature: undefined }), /not signed/);
    await refused(verifyWith({ signature: undefined }), /no Signature header/);
    await refused(verifyWith({ 'signature-input': undefined }), /no Signature-Input header/);
    await refused(verifyWith({ 'signature-input': [input, input] }), /send one Signature-Input header/);
    await refused(verifyWith({ signature: [signature, signature] }), /send one Signature header/);
    // Node and fetch join a repeated header with ", ".
    await refused(verifyWith({ 'signature-input': `${input}, ${input}` }), /appears twice in Signature-Input/);
    await refused(verifyWith({ signature: `${signature}, ${signature}` }), /appears twice in Signature/);
    await refused(verifyWith({ signature: '' }), /not a valid structured field|empty/);
  });

  it('unknown labels and several signatures', async () => {
    const first = handSigned();
    const second = handSigned({ label: 'sig2' });
    await refused(
      verifyWith({ signature: (first.headers.signature as string).replace('sig1=', 'sig2=') }),
      /sig1 is in Signature-Input but not in Signature/,
    );
    await refused(
      verifyWith({ signature: `${first.headers.signature as string}, ${second.headers.signature as string}` }),
      /sig2 is in Signature but not in Signature-Input/,
    );
    await refused(
      verifyWith({
        'signature-input': `${first.headers['signature-input'] as string}, ${second.headers['signature-input'] as string}`,
        signature: `${first.headers.signature as string}, ${second.headers.signature as string}`,
      }),
      /several signatures/,
    );
  });

  it('unsupported algorithms, and an alg that is not the key’s', async () => {
    await refused(
      verifySignedRequest(handSigned({ extraParams: ';alg="rsa-v1_5-sha256"' }).request, options()),
      /rsa-v1_5-sha256 is not supported/,
    );
    await refused(
      verifySignedRequest(handSigned({ extraParams: ';alg="hmac-sha256"' }).request, options()),
      /not a hmac-sha256 key/,
    );
    await refused(
      verifySignedRequest(handSigned({ extraParams: ';alg=ed25519' }).request, options()),
      /alg must be a string/,
    );
  });

  it('components the request does not have, or that do not apply to a request', async () => {
    const base: Array<[string, string]> = [
      ['"@method"', 'POST'],
      ['"@target-uri"', URL_],
      ['"content-digest"', sha256Digest(BODY)],
    ];
    const cases: Array<[Array<[string, string]>, RegExp]> = [
      [[...base, ['"x-missing"', '']], /"x-missing" is not in the request/],
      [[...base, ['"@status"', '200']], /"@status" is not in the request or cannot be derived/],
      [[...base, ['"@query-param"', 'x']], /"@query-param"/],
      [[...base, ['"@query-param";name="missing"', 'x']], /"@query-param";name="missing"/],
      [[...base, ['"Content-Type"', 'application/json']], /must be lower-case/],
      [[...base, ['"@method"', 'POST']], /"@method" is covered twice/],
      [[...base, ['"content-type";req', 'application/json']], /"req" is not supported/],
      [[...base, ['"content-type";tr', 'application/json']], /"tr" is not supported/],
      [[...base, ['"@authority";bs', 'api.example.com']], /"bs" is not supported on @authority/],
      [[...base, ['"content-type";name="x"', 'application/json']], /"name" is not supported on content-type/],
      [[...base, ['"@signature-params"', 'x']], /@signature-params cannot be/],
      [[...base, ...Array.from({ length: 30 }, (_, i): [string, string] => [`"x-${i}"`, ''])], /at most 32/],
    ];
    for (const [components, description] of cases) {
      await refused(verifySignedRequest(handSigned({ components }).request, options()), description);
    }
  });

  it('giant headers, values that are not base64, members of the wrong type', async () => {
    const { headers } = handSigned();
    await refused(
      verifyWith({ 'signature-input': `${headers['signature-input'] as string};tag="${'x'.repeat(9000)}"` }),
      /Signature-Input header is too large/,
    );
    await refused(verifyWith({ signature: `sig1=:${'A'.repeat(12000)}:` }), /Signature header is too large/);
    await refused(verifyWith({ signature: `sig1=:${'A'.repeat(2000)}:` }), /impossible length/);
    await refused(verifyWith({ signature: 'sig1=:not base64!:' }), /Signature header is not a valid structured field/);
    await refused(verifyWith({ signature: 'sig1=:QUJD=A==:' }), /Signature header is not a valid structured field/);
    await refused(verifyWith({ signature: 'sig1=::' }), /impossible length/);
    await refused(verifyWith({ signature: 'sig1="c2ln"' }), /byte sequence/);
    await refused(verifyWith({ signature: 'sig1=(:c2ln:)' }), /byte sequence/);
    await refused(verifyWith({ 'signature-input': 'sig1="@method"' }), /list of components/);
    await refused(verifyWith({ 'signature-input': 'sig1=(@method)' }), /not a valid structured field/);
    await refused(verifyWith({ 'signature-input': 'sig1=(method)' }), /must be strings/);
    await refused(
      verifyWith({ 'content-digest': `sha-256=:${'A'.repeat(9000)}:` }),
      /Content-Digest header is too large/,
    );
  });

  it('Content-Digest: another algorithm alone, a body that does not match, a body not covered', async () => {
    const sha512 = 'sha-512=:' + Buffer.alloc(64).toString('base64') + ':';
    await refused(
      verifySignedRequest(handSigned({ headers: { 'content-digest': sha512 } }).request, options()),
      /no sha-256/,
    );
    const { request } = handSigned();
    await refused(verifySignedRequest({ ...request, body: BODY.replace('2', '3') }, options()), /body does not match/);
    await refused(verifySignedRequest({ ...request, body: undefined }, options()), /body does not match/);
    const uncovered = handSigned({
      components: [
        ['"@method"', 'POST'],
        ['"@target-uri"', URL_],
      ],
    });
    await refused(verifySignedRequest(uncovered.request, options()), /must cover content-digest/);
    // A body the API did not pass but the headers announce still has to be covered.
    const announced = handSigned({ body: null, headers: { 'content-length': '12' } });
    await refused(verifySignedRequest(announced.request, options()), /must cover content-digest/);
    const chunked = handSigned({ body: null, headers: { 'transfer-encoding': 'chunked' } });
    await refused(verifySignedRequest(chunked.request, options()), /must cover content-digest/);
    const noHeader = handSigned({
      body: null,
      components: [
        ['"@method"', 'POST'],
        ['"@target-uri"', URL_],
        ['"content-digest"', ''],
      ],
    });
    await refused(verifySignedRequest(noHeader.request, options()), /covers content-digest and the request has none/);
  });

  it('required components and parameters', async () => {
    const cases: Array<[HandRequest, RegExp]> = [
      [
        {
          components: [
            ['"@target-uri"', URL_],
            ['"content-digest"', sha256Digest(BODY)],
          ],
        },
        /must cover @method/,
      ],
      [
        {
          components: [
            ['"@method"', 'POST'],
            ['"content-digest"', sha256Digest(BODY)],
          ],
        },
        /must cover @target-uri/,
      ],
      [{ params: `;created=${NOW};nonce="n-no-keyid"` }, /no keyid/],
      [{ params: `;created=${NOW};keyid="key-ed25519"` }, /no nonce/],
      [{ params: ';keyid="key-ed25519";nonce="n-no-created"' }, /no created/],
      [{ params: `;created="${NOW}";keyid="key-ed25519";nonce="n"` }, /created must be an integer/],
      [{ params: `;created=${NOW}.5;keyid="key-ed25519";nonce="n"` }, /created must be an integer/],
      [{ params: `;created=${NOW};keyid="key-ed25519";nonce=""` }, /nonce must be a string of 1 to 256/],
      [
        { params: `;created=${NOW};keyid="key-ed25519";nonce="${'n'.repeat(257)}"` },
        /nonce must be a string of 1 to 256/,
      ],
      [{ params: `;created=${NOW};keyid=key-ed25519;nonce="n"` }, /keyid must be a string/],
      [{ extraParams: `;expires=${NOW - 1}` }, /expired/],
      [{ created: NOW - 301 }, /too long ago or in the future/],
      [{ created: NOW + 301 }, /too long ago or in the future/],
      [{ keyid: 'key-removed' }, /unknown key key-removed/],
      [{ keyid: '__proto__' }, /unknown key/],
      [{ signingKey: other.privateKey }, /does not verify/],
    ];
    for (const [spec, description] of cases) {
      await refused(verifySignedRequest(handSigned(spec).request, options()), description);
    }
  });

  it('another method, URL or covered header than the one signed; a URL that is not absolute', async () => {
    const { request } = handSigned();
    await refused(verifySignedRequest({ ...request, method: 'PUT' }, options()), /does not verify/);
    await refused(verifySignedRequest({ ...request, url: `${URL_}&all=1` }, options()), /does not verify/);
    await refused(
      verifySignedRequest({ ...request, url: '/orders?status=open' }, options()),
      /not an absolute http\(s\) URL/,
    );
    const headers = {
      ...(request.headers as Record<string, string>),
      'content-type': 'application/x-www-form-urlencoded',
    };
    await refused(verifySignedRequest({ ...request, headers }, options()), /does not verify/);
  });

  it('a replay, also on another verifier sharing the cache; a refused request does not burn its nonce', async () => {
    const shared = options();
    const { request } = handSigned();
    await refused(verifySignedRequest({ ...request, body: `${BODY} ` }, shared), /body does not match/);
    await expect(verifySignedRequest(request, shared)).resolves.toBeDefined();
    await refused(verifySignedRequest(request, shared), /nonce has been used before/);
    await refused(verifySignedRequest(request, { ...options(), replayCache: shared.replayCache }), /used before/);
    // The same nonce under another key is another signature.
    const otherKey = handSigned({
      alg: 'hmac-sha256',
      nonce: /nonce="([^"]+)"/.exec(request.headers['signature-input' as never] as string)![1],
    });
    await expect(verifySignedRequest(otherKey.request, shared)).resolves.toBeDefined();
  });

  it('the challenge and Accept-Signature say what to sign; the resolver’s own errors pass through', async () => {
    const withBody = await refused(
      verifySignedRequest(handSigned({ signingKey: other.privateKey }).request, options()),
      /does not verify/,
    );
    expect(withBody.acceptSignature).toBe('sig1=("@method" "@target-uri" "content-digest");created;nonce');
    expect(withBody.wwwAuthenticate).toBe(
      'Signature error="invalid_signature", error_description="the signature does not verify"',
    );
    const noBody = await refused(
      verifySignedRequest({ method: 'GET', url: URL_, headers: {} }, options()),
      /not signed/,
    );
    expect(noBody.acceptSignature).toBe('sig1=("@method" "@target-uri");created;nonce');
    const unavailable = new IssuerUnavailableError(new Error('down'));
    const error = await verifySignedRequest(
      handSigned().request,
      options({ resolveKey: () => Promise.reject(unavailable) }),
    ).catch((caught: unknown) => caught);
    expect(error).toBe(unavailable);
  });
});

describe('properties', () => {
  const token = fc.stringMatching(/^[a-z0-9]{1,8}$/);
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
  const requests = fc.record({
    method: fc.constantFrom(...methods),
    path: fc.array(token, { minLength: 1, maxLength: 3 }),
    query: fc.array(fc.tuple(token, token), { maxLength: 2 }),
    body: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    custom: token,
  });
  const urlOf = (path: string[], query: Array<[string, string]>) =>
    `https://api.example.com/${path.join('/')}${query.length > 0 ? `?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''}`;

  it('any change to the method, the URL, the body or a covered header makes verification fail', async () => {
    await fc.assert(
      fc.asyncProperty(
        requests,
        fc.constantFrom('method', 'url', 'body', 'header'),
        fc.string({ minLength: 1, maxLength: 5 }),
        async ({ method, path, query, body, custom }, target, change) => {
          const url = urlOf(path, query);
          const headers = { 'x-custom': custom };
          const components: Array<[string, string]> = [
            ['"@method"', method],
            ['"@target-uri"', url],
            ['"x-custom"', custom],
          ];
          if (body !== undefined) components.push(['"content-digest"', sha256Digest(body)]);
          const signed = handSigned({ method, url, body: body ?? null, components, headers });
          // The hand-signed request carries content-type only with a body; keep it out of the base here.
          const request = { ...signed.request };
          await expect(verifySignedRequest(request, options())).resolves.toBeDefined();
          const mutated = { ...request, headers: { ...(request.headers as Record<string, string>) } };
          switch (target) {
            case 'method':
              mutated.method = methods.find((other) => other !== method)!;
              break;
            case 'url':
              // Another query, or another path (encoded, so that WHATWG URL cannot normalise it away).
              mutated.url =
                change.length % 2 === 0
                  ? `${url}${url.includes('?') ? '&' : '?'}${encodeURIComponent(change)}`
                  : url.replace('https://api.example.com/', `https://api.example.com/${encodeURIComponent(change)}`);
              break;
            case 'body':
              mutated.body = `${body ?? ''}${change}`;
              break;
            case 'header':
              mutated.headers['x-custom'] = `${custom}${change.trim() === '' ? 'x' : change}`;
              break;
          }
          const error = await verifySignedRequest(mutated, options()).catch((caught: unknown) => caught);
          expect(error).toBeInstanceOf(InvalidSignatureError);
        },
      ),
      { numRuns: 200 },
    );
  });

  const fragment = fc.constantFrom(
    'sig1',
    'sig2',
    '=',
    '(',
    ')',
    ' ',
    ';',
    ',',
    ':',
    '"',
    '\\',
    '%"',
    '"@method"',
    '"@target-uri"',
    '"content-digest"',
    '"x-missing"',
    'created=',
    `${NOW}`,
    'keyid=',
    '"key-ed25519"',
    '"__proto__"',
    'nonce=',
    '"n"',
    'alg=',
    '"ed25519"',
    'expires=',
    '?1',
    '@1',
    '-1',
    '1.5',
    'AAAA',
    'sha-256=',
    ':X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
  );
  const garbage = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 100 }),
    fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join('')),
  );
  const headerValue = fc.oneof(garbage, fc.array(garbage, { maxLength: 3 }));

  it('arbitrary header garbage is a 401 InvalidSignatureError, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('signature-input', 'Signature', 'signature', 'content-digest', 'content-length', 'x-missing'),
          headerValue,
        ),
        fc.option(garbage, { nil: undefined }),
        fc.constantFrom(URL_, 'not a url', '/relative', 'ftp://example.com/'),
        async (headers, body, url) => {
          const error = await verifySignedRequest({ method: 'POST', url, headers, body }, options()).catch(
            (caught: unknown) => caught,
          );
          expect(error).toBeInstanceOf(InvalidSignatureError);
          expect(error).toMatchObject({ status: 401, code: 'invalid_signature' });
        },
      ),
      { numRuns: 1000 },
    );
  });
});
