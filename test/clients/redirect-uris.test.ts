import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../src/lib/loopback-host.js';
import { isNativeRedirect, validateRedirectUri } from '../../src/clients/redirect-uris.js';
import { ValidationError } from '../../src/lib/errors.js';

/**
 * The redirect URI registration rules (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1), without a
 * server: what the admin API and the CLI accept is what validateRedirectUri accepts.
 * Through the admin API: test/admin/admin-api.test.ts; in a browser: test/e2e/sign-in-*.test.ts.
 */

/** The refusal's message, or undefined when the URI is accepted (then it comes back unchanged). */
function refusal(value: string, isPublic: boolean): string | undefined {
  try {
    expect(validateRedirectUri(value, 'redirect_uris', isPublic)).toBe(value);
    return undefined;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    expect(error.message.startsWith('redirect_uris: ')).toBe(true);
    return error.message;
  }
}

/** A URI each kind of client may register: https, loopback http, a reverse-domain private-use scheme. */
const registrable = fc
  .oneof(
    fc
      .tuple(
        fc.domain(),
        fc.option(fc.integer({ min: 1, max: 65535 })),
        fc.array(fc.webSegment(), { maxLength: 3 }),
        fc.webQueryParameters(),
      )
      .map(
        ([host, port, path, query]) =>
          `https://${host}${port ? `:${port}` : ''}/${path.join('/')}${query ? `?${query}` : ''}`,
      ),
    fc
      .tuple(fc.constantFrom('127.0.0.1', '[::1]'), fc.option(fc.integer({ min: 1, max: 65535 })), fc.webSegment())
      .map(([host, port, path]) => `http://${host}${port ? `:${port}` : ''}/${path}`),
    fc.tuple(fc.domain(), fc.webSegment()).map(([domain, path]) => `${domain.split('.').reverse().join('.')}:/${path}`),
  )
  .map((value) => URL.parse(value)?.href ?? value);

/** What gets a URI refused: each rule's edge. */
const spoilers: ((value: string) => string)[] = [
  (value) => `${value}#frag`,
  (value) => `${value}#`,
  (value) => value.replace(/\/([^/]*)$/, '/*$1'),
  (value) => value.replace('://', '://user@'),
  (value) => value.replace('://', '://good.example@'),
  (value) => value.replace(/^[a-z.]+/, (scheme) => scheme.toUpperCase()),
  (value) => value.replace(/^https:/, 'http:'),
  (value) => value.replace(/^http:\/\/[^/:]+/, 'http://localhost'),
  (value) => value.replace(/^([a-z]+)\.[a-z.]+:/, '$1:'),
  (value) => value.replace(/^https:\/\/([^/:]+)\//, 'https://$1:443/'),
  (value) => value.replace(/\/$/, ''),
  (value) => value.replace(/^[a-z.]+:/, 'javascript:'),
];

/** Registrable URIs, some spoiled by one or two of the rules' edges, and strings of any kind. */
const anyInput = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(registrable, fc.array(fc.constantFrom(...spoilers), { maxLength: 2 }))
      .map(([value, spoil]) => spoil.reduce((spoiled, next) => next(spoiled), value)),
  },
  { weight: 1, arbitrary: fc.webUrl({ withFragments: true, withQueryParameters: true }) },
  { weight: 1, arbitrary: fc.string() },
);

describe('validateRedirectUri', () => {
  it('accepts https for every client, loopback http and reverse-domain private-use schemes for public clients only', () => {
    for (const isPublic of [true, false]) {
      expect(refusal('https://app.example.com/callback', isPublic)).toBeUndefined();
      expect(refusal('https://app.example.com:8443/cb?tenant=a', isPublic)).toBeUndefined();
    }
    for (const uri of [
      'http://127.0.0.1/callback',
      'http://127.0.0.1:8765/callback',
      'http://[::1]/cb',
      'com.example.app:/callback',
    ]) {
      expect(refusal(uri, true), uri).toBeUndefined();
      expect(refusal(uri, false), uri).toMatch(/native public clients \(--public\)/);
    }
  });

  it.each([
    ['not a URI', /is not an absolute URI/],
    ['/callback', /is not an absolute URI/],
    ['https://app.example.com/callback#done', /must not contain a fragment/],
    ['https://app.example.com/callback#', /must not contain a fragment/],
    ['https://*.example.com/callback', /must not contain wildcards/],
    ['https://user:pw@app.example.com/callback', /must not contain user information/],
    ['https://good.example@evil.example/callback', /must not contain user information/],
    ['https://app.example.com', /not in normal form; register it as "https:\/\/app.example.com\/"/],
    ['HTTPS://App.Example.com/cb', /not in normal form; register it as "https:\/\/app.example.com\/cb"/],
    ['https://app.example.com:443/cb', /not in normal form/],
    ['http://app.example.com/callback', /must use https"?$/],
    ['http://localhost:8080/callback', /must use https \(for a native app use http:\/\/127\.0\.0\.1:PORT/],
    ['http://127.0.0.2/callback', /must use https/],
    ['myapp:/callback', /private-use scheme in reverse-domain form/],
    ['javascript:alert(1)', /private-use scheme in reverse-domain form/],
  ])('refuses %s', (uri, message) => {
    expect(refusal(uri, true)).toMatch(message);
  });

  it('an accepted URI is in normal form, has no fragment, wildcard or userinfo, and is https, loopback http or a private-use scheme', () => {
    fc.assert(
      fc.property(anyInput, fc.boolean(), (value, isPublic) => {
        if (refusal(value, isPublic) !== undefined) return;
        const url = new URL(value);
        expect(url.href).toBe(value);
        expect(value).not.toContain('#');
        expect(value).not.toContain('*');
        expect(url.username + url.password).toBe('');
        const scheme = url.protocol.slice(0, -1);
        if (scheme === 'https') expect(url.hostname).not.toBe('');
        else if (scheme === 'http') expect(isLoopbackHost(url.hostname)).toBe(true);
        else expect(scheme).toContain('.');
        // Anything but https is for native apps, which are public clients.
        if (!isPublic) expect(scheme).toBe('https');
      }),
      { numRuns: 2_000 },
    );
  });

  it('a confidential client is refused exactly the URIs that are not https, among those a public client may use', () => {
    fc.assert(
      fc.property(anyInput, (value) => {
        if (refusal(value, true) !== undefined) return;
        expect(refusal(value, false) === undefined).toBe(value.startsWith('https:'));
      }),
      { numRuns: 1_000 },
    );
  });

  it('an accepted URI with a fragment added, or spelled in upper case, is refused', () => {
    fc.assert(
      fc.property(anyInput, fc.boolean(), fc.string({ maxLength: 8 }), (value, isPublic, fragment) => {
        if (refusal(value, isPublic) !== undefined) return;
        expect(refusal(`${value}#${fragment}`, isPublic)).toBeDefined();
        const shouted = value.replace(/^[a-z.]+/, (scheme) => scheme.toUpperCase());
        expect(refusal(shouted, isPublic)).toMatch(/not in normal form/);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('isNativeRedirect', () => {
  it('is true for exactly the accepted URIs that are not https (loopback and private-use)', () => {
    fc.assert(
      fc.property(anyInput, (value) => {
        if (refusal(value, true) !== undefined) return;
        expect(isNativeRedirect(value)).toBe(!value.startsWith('https:'));
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('isLoopbackHost', () => {
  it('is the IPv4 and IPv6 loopback literals only, never a name (RFC 8252 §8.3)', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    for (const host of ['localhost', '127.0.0.2', '::1', '[::2]', '127.0.0.1.example.com', '']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});
