import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createVerifier,
  ResourceServerError,
  type HttpRequest,
  type RequestScheme,
  type Verifier,
} from '../src/index.js';
import { CertificateFactory, type TestCertificate } from '../../../test/helpers/certificates.js';
import { AUDIENCE, DPoPKey, TestIssuer } from './helpers/issuer.js';

// RFC 8705 §3 in verifyRequest and verify: a certificate-bound token (cnf.x5t#S256) is accepted only
// with the certificate it names, whatever form the API hands it over in; never as a bearer token.

const URL_ = 'https://api.example.com/orders';
const ALL: RequestScheme[] = ['bearer', 'dpop', 'mtls'];

let issuer: TestIssuer;
let verifier: Verifier;
let certificates: CertificateFactory;
let client: TestCertificate;
let other: TestCertificate;
let expired: TestCertificate;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
  certificates = new CertificateFactory();
  const { ca } = certificates.serverSetup();
  client = certificates.issue(ca, { subject: '/CN=orders-sync/O=Acme' });
  other = certificates.issue(ca, { subject: '/CN=orders-sync/O=Acme' });
  expired = certificates.issue(ca, { subject: '/CN=orders-sync/O=Acme', days: -1 });
});

afterAll(async () => {
  certificates.cleanup();
  await issuer.close();
});

afterEach(() => {
  vi.useRealTimers();
});

function request(
  token: string,
  clientCertificate?: HttpRequest['clientCertificate'],
  headers: Record<string, string> = {},
): HttpRequest {
  return { method: 'GET', url: URL_, headers: { authorization: `Bearer ${token}`, ...headers }, clientCertificate };
}

/** A token bound to `certificate` (cnf.x5t#S256), as Tollgate issues them to --certificate-bound clients. */
function boundTo(certificate: TestCertificate, overrides: Record<string, unknown> = {}): Promise<string> {
  return issuer.token({ cnf: { 'x5t#S256': certificate.x5tS256 }, ...overrides });
}

async function refusal(promise: Promise<unknown>): Promise<ResourceServerError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ResourceServerError)) throw new Error(`expected a ResourceServerError, got ${String(error)}`);
  return error;
}

/** 401 invalid_token with a Bearer challenge: a certificate-bound token is sent as Bearer. */
async function expectInvalidToken(promise: Promise<unknown>, description: RegExp): Promise<void> {
  const error = await refusal(promise);
  expect(error).toMatchObject({ status: 401, code: 'invalid_token' });
  expect(error.description).toMatch(description);
  expect(error.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);
}

describe('a certificate-bound token with mtls among the schemes', () => {
  it('is accepted with its certificate as PEM, DER Buffer, plain Uint8Array or X509Certificate: scheme mtls', async () => {
    const token = await boundTo(client, { sub: 'client_sync' });
    const forms = [client.certPem, client.der, new Uint8Array(client.der), new X509Certificate(client.der)];
    for (const form of forms) {
      const caller = await verifier.verifyRequest(request(token, form), { schemes: ALL, scopes: ['orders:read'] });
      expect(caller).toMatchObject({ scheme: 'mtls', sub: 'client_sync', cnf: { 'x5t#S256': client.x5tS256 } });
    }
    expect(await verifier.verifyRequest(request(token, client.der), { schemes: ['mtls'] })).toMatchObject({
      scheme: 'mtls',
    });
  });

  it('is refused without a certificate, with another one, or when the API does not list mtls', async () => {
    const token = await boundTo(client);
    await expectInvalidToken(verifier.verifyRequest(request(token), { schemes: ALL }), /no client certificate/);
    await expectInvalidToken(verifier.verifyRequest(request(token, null), { schemes: ALL }), /no client certificate/);
    await expectInvalidToken(
      verifier.verifyRequest(request(token, other.der), { schemes: ALL }),
      /bound to another client certificate/,
    );
    for (const schemes of [undefined, ['bearer'], ['bearer', 'dpop', 'api-key']] as const) {
      await expectInvalidToken(
        verifier.verifyRequest(request(token, client.der), { schemes }),
        /certificate-bound token is not accepted here/,
      );
    }
  });

  it('is refused with a certificate that cannot be read', async () => {
    const token = await boundTo(client);
    const garbage = [
      '',
      'not a certificate',
      client.certPem.replace(/[A-Z]/g, 'A'),
      Buffer.alloc(0),
      client.der.subarray(0, 100),
    ];
    for (const certificate of garbage) {
      await expectInvalidToken(
        verifier.verifyRequest(request(token, certificate), { schemes: ALL }),
        /the client certificate could not be read/,
      );
    }
  });

  it('is refused with its own certificate once expired, or before it is valid', async () => {
    await expectInvalidToken(
      verifier.verifyRequest(request(await boundTo(expired), expired.der), { schemes: ALL }),
      /client certificate has expired/,
    );
    // Two days back, the certificate made today is not valid yet (the token is issued at that time too).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() - 2 * 86_400_000);
    await expectInvalidToken(
      verifier.verifyRequest(request(await boundTo(client), client.der), { schemes: ALL }),
      /client certificate is not valid yet/,
    );
  });

  it('is refused when sent with the DPoP scheme, and its scopes are checked (403)', async () => {
    const token = await boundTo(client, { scope: 'orders:read' });
    const asDPoP = { ...request(token, client.der), headers: { authorization: `DPoP ${token}` } };
    const error = await refusal(verifier.verifyRequest(asDPoP, { schemes: ALL }));
    expect(error).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(error.description).toMatch(/not DPoP-bound/);
    const scope = await refusal(
      verifier.verifyRequest(request(token, client.der), { schemes: ALL, scopes: ['orders:write'] }),
    );
    expect(scope).toMatchObject({ status: 403, code: 'insufficient_scope' });
    expect(scope.wwwAuthenticate).toMatch(/^Bearer error="insufficient_scope"/);
  });

  it('is compared by its whole thumbprint: a padded, truncated or malformed x5t#S256 is refused', async () => {
    for (const x5t of [`${client.x5tS256}=`, client.x5tS256.slice(0, -1), '', 42, null]) {
      const token = await issuer.token({ cnf: { 'x5t#S256': x5t } });
      const error = await refusal(verifier.verifyRequest(request(token, client.der), { schemes: ALL }));
      expect(error, JSON.stringify(x5t)).toMatchObject({ status: 401, code: 'invalid_token' });
    }
  });

  it('passing something that is not a certificate at all is a TypeError for the API, not a 401', async () => {
    const token = await boundTo(client);
    const peerObject = { subject: { CN: 'orders-sync' }, raw: client.der } as never;
    await expect(verifier.verifyRequest(request(token, peerObject), { schemes: ALL })).rejects.toThrow(
      new TypeError(
        'clientCertificate must be PEM, DER bytes or an X509Certificate (of a TLS socket: getPeerCertificate().raw)',
      ),
    );
  });
});

describe('verify, the older call', () => {
  it('never accepts a certificate-bound token as a bearer token; accepts it with clientCertificate', async () => {
    const token = await boundTo(client);
    await expectInvalidToken(verifier.verify(`Bearer ${token}`), /no client certificate/);
    await expectInvalidToken(verifier.verify(token), /no client certificate/);
    await expectInvalidToken(
      verifier.verify(`Bearer ${token}`, { clientCertificate: other.certPem }),
      /another client certificate/,
    );
    expect(await verifier.verify(`Bearer ${token}`, { clientCertificate: client.certPem })).toMatchObject({
      cnf: { 'x5t#S256': client.x5tS256 },
    });
  });

  it('requires both proofs of a token bound both to a DPoP key and to a certificate', async () => {
    const holder = await DPoPKey.generate();
    const token = await issuer.token({ cnf: { jkt: holder.jkt, 'x5t#S256': client.x5tS256 } });
    const dpop = async () => ({ proof: await holder.proof('GET', URL_, token), method: 'GET', url: URL_ });
    await expectInvalidToken(
      verifier.verify(`DPoP ${token}`, { dpop: await dpop() }).then(() => 'accepted'),
      /no client certificate/,
    ).catch((error: unknown) => {
      // The challenge of a DPoP-bound token is DPoP; what matters is that it is refused.
      expect(String(error)).toMatch(/DPoP error="invalid_token"/);
    });
    await expect(
      verifier.verify(`DPoP ${token}`, { dpop: await dpop(), clientCertificate: other.der }),
    ).rejects.toMatchObject({ status: 401, description: 'the token is bound to another client certificate' });
    expect(await verifier.verify(`DPoP ${token}`, { dpop: await dpop(), clientCertificate: client.der })).toBeTruthy();
    const both = {
      method: 'GET',
      url: URL_,
      headers: { authorization: `DPoP ${token}`, dpop: await holder.proof('GET', URL_, token) },
      clientCertificate: client.der,
    };
    await expect(verifier.verifyRequest(both, { schemes: ['dpop'] })).rejects.toMatchObject({
      status: 401,
      description: 'a certificate-bound token is not accepted here',
    });
    both.headers.dpop = await holder.proof('GET', URL_, token);
    expect(await verifier.verifyRequest(both, { schemes: ['dpop', 'mtls'] })).toMatchObject({ scheme: 'dpop' });
  });
});

describe('tokens without x5t#S256', () => {
  it('behave as before whatever certificate comes with them, readable or not', async () => {
    const token = await issuer.token();
    for (const certificate of [client.der, 'garbage', undefined]) {
      expect(await verifier.verifyRequest(request(token, certificate), { schemes: ALL })).toMatchObject({
        scheme: 'bearer',
      });
    }
  });

  it('a bearer token where only certificate-bound tokens are accepted is 401 saying what to use', async () => {
    const error = await refusal(
      verifier.verifyRequest(request(await issuer.token(), client.der), { schemes: ['mtls'] }),
    );
    expect(error).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(error.description).toBe('a bearer token is not accepted here: use a certificate-bound token (RFC 8705)');
    expect(error.wwwAuthenticate).toMatch(/^Bearer error="invalid_token"/);
  });
});

describe('any certificate bytes or text', () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 2048 }),
    // A real certificate with bytes changed, cut or appended: what a mangled header decodes to.
    fc
      .tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'append'))
      .map(([at, byte, how]) => {
        const der = Buffer.from(client.der);
        const index = at % der.length;
        if (how === 'cut') return der.subarray(0, index);
        if (how === 'append') return Buffer.concat([der, Buffer.from([byte])]);
        der[index] = der[index] === byte ? byte ^ 0xff : byte;
        return der;
      }),
  );
  const text = fc.oneof(
    fc.string({ maxLength: 500 }),
    bytes.map(
      (data) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(data).toString('base64')}\n-----END CERTIFICATE-----\n`,
    ),
  );

  it('are answered with a 401 ResourceServerError for a certificate-bound token, never a crash or an acceptance', async () => {
    const token = await boundTo(client);
    await fc.assert(
      fc.asyncProperty(fc.oneof(bytes, text), async (certificate) => {
        const outcome = await verifier.verifyRequest(request(token, certificate), { schemes: ALL }).then(
          () => 'accepted',
          (error: unknown) => error,
        );
        expect(outcome).toBeInstanceOf(ResourceServerError);
        expect(outcome).toMatchObject({ status: 401, code: 'invalid_token' });
      }),
      { numRuns: 300 },
    );
  });
});
