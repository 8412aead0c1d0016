import { describe, expect, it } from 'vitest';
import { InsufficientScopeError, InvalidTokenError, KeySetUnavailableError, MissingTokenError } from '../src/index.js';
import { freshnessLifetime } from '../src/http.js';

describe('WWW-Authenticate values (RFC 6750 §3)', () => {
  it('keep error_description within the characters RFC 6750 allows', () => {
    const error = new InvalidTokenError('a "quoted" \\ description — with ünïcode');
    expect(error.wwwAuthenticate).toBe(
      'Bearer error="invalid_token", error_description="a ?quoted? ? description ? with ?n?code"',
    );
  });

  it('render the DPoP scheme with algs when asked', () => {
    const error = new InsufficientScopeError(['a:read', 'a:write']).withChallenge({
      scheme: 'DPoP',
      dpopAlgorithms: ['ES256', 'EdDSA'],
    });
    expect(error.wwwAuthenticate).toBe(
      'DPoP error="insufficient_scope", error_description="the token lacks a required scope (a:read a:write)", scope="a:read a:write", algs="ES256 EdDSA"',
    );
  });

  it('offer both schemes, without error attributes, when there is no token', () => {
    expect(new MissingTokenError().withChallenge({ scheme: 'Bearer', dpopAlgorithms: ['ES256'] }).wwwAuthenticate).toBe(
      'Bearer, DPoP algs="ES256"',
    );
  });

  it('are absent for 503, whose description names no host', () => {
    const error = new KeySetUnavailableError(new Error('http://10.0.0.7/jwks: HTTP 500'));
    expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable', wwwAuthenticate: undefined });
    expect(JSON.stringify(error.toJSON())).not.toMatch(/10\.0\.0\.7/);
  });
});

describe('freshnessLifetime (RFC 9111 §4.2.1)', () => {
  const lifetime = (headers: Record<string, string>) => freshnessLifetime(new Headers(headers));

  it('reads max-age, minus Age', () => {
    expect(lifetime({ 'cache-control': 'public, max-age=300' })).toBe(300);
    expect(lifetime({ 'cache-control': 'Max-Age="120"' })).toBe(120);
    expect(lifetime({ 'cache-control': 'max-age=300', age: '100' })).toBe(200);
    expect(lifetime({ 'cache-control': 'max-age=300', age: '400' })).toBe(0);
  });

  it('treats no-store and no-cache as zero and silence as unknown', () => {
    expect(lifetime({ 'cache-control': 'no-store' })).toBe(0);
    expect(lifetime({ 'cache-control': 'max-age=300, no-cache' })).toBe(0);
    expect(lifetime({ 'cache-control': 'public' })).toBeUndefined();
    expect(lifetime({})).toBeUndefined();
    expect(lifetime({ 'cache-control': 'max-age=-5' })).toBeUndefined();
  });
});
