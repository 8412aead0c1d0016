import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import Provider from 'oidc-provider';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ProviderRelianceError,
  basicClientId,
  checkProviderInternals,
  deviceFormParts,
  presentedClientCredentials,
  type Reliance,
} from '../../src/oidc-provider/internals.js';
import { sourceFilesOfSrc } from '../helpers/source-files.js';

const SEAM = 'oidc-provider/internals.ts';

function bareProvider(): Provider {
  return new Provider('http://127.0.0.1:1', { features: { devInteractions: { enabled: false } } });
}

function relianceOf(change: (provider: Provider) => void): Reliance | undefined {
  const provider = bareProvider();
  change(provider);
  try {
    checkProviderInternals(provider);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderRelianceError);
    expect((error as Error).message).toContain('docs/UPGRADING-oidc-provider.md');
    return (error as ProviderRelianceError).reliance;
  }
}

describe('the seam to oidc-provider', () => {
  it('finds the installed oidc-provider as Tollgate relies on it', () => {
    expect(() => checkProviderInternals(bareProvider())).not.toThrow();
  });

  it('refuses to start, naming the reliance, when a patched model method is gone', () => {
    expect(
      relianceOf((provider) => {
        Object.defineProperty(provider.Client.prototype, 'compareClientSecret', { value: undefined });
      }),
    ).toBe('client-secret-comparison');
    expect(
      relianceOf((provider) => {
        (provider.Client as unknown as { find: unknown }).find = undefined;
      }),
    ).toBe('client-find');
    expect(
      relianceOf((provider) => {
        (provider.Grant as unknown as { find: unknown }).find = undefined;
      }),
    ).toBe('grant-find');
    expect(
      relianceOf((provider) => {
        (provider as unknown as { Session: { get: unknown } }).Session.get = undefined;
      }),
    ).toBe('session-lookup');
  });

  it("reads oidc-provider's device forms, and refuses one it cannot read", () => {
    expect(
      deviceFormParts(
        '<form method="post" action="/device?x=1&amp;y=2"><input type="hidden" name="xsrf" value="abc"/></form>',
      ),
    ).toEqual({ action: '/device?x=1&y=2', xsrf: 'abc' });
    expect(() => deviceFormParts('<form method="post"></form>')).toThrow('unexpected device form');
  });

  it("reads client credentials by oidc-provider's rules: one mechanism per request", () => {
    const basic = `Basic ${Buffer.from('my%20app:s%3Acret').toString('base64')}`;
    expect(presentedClientCredentials(basic, new URLSearchParams())).toEqual({
      id: 'my app',
      secret: 's:cret',
      assertion: null,
    });
    expect(presentedClientCredentials('', new URLSearchParams('client_id=a'))).toEqual({
      id: 'a',
      secret: null,
      assertion: null,
    });
    expect(() => presentedClientCredentials(basic, new URLSearchParams('client_secret=x'))).toThrow(
      'client authentication must only be provided using one mechanism',
    );
    expect(() => presentedClientCredentials('', new URLSearchParams())).toThrow(
      'no client authentication mechanism provided',
    );
    expect(() => presentedClientCredentials('Bearer x', new URLSearchParams())).toThrow('invalid Authorization header');
  });

  it('reads the client id of a Basic header as presentedClientCredentials does, and nothing where it does not parse', () => {
    // Form-urlencoded inside Basic (RFC 6749 §2.3.1): spaces as + or %20, anything else percent-encoded.
    const encode = (text: string, plus: boolean) =>
      plus ? encodeURIComponent(text).replace(/%20/g, '+') : encodeURIComponent(text);
    const header = (id: string, secret: string, plus: boolean) =>
      `Basic ${Buffer.from(`${encode(id, plus)}:${encode(secret, plus)}`).toString('base64')}`;
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), fc.boolean(), (id, secret, plus) => {
        const basic = header(id, secret, plus);
        expect(basicClientId(basic)).toBe(id);
        expect(basicClientId(basic)).toBe(presentedClientCredentials(basic, new URLSearchParams()).id);
      }),
      { numRuns: 300 },
    );
    expect(basicClientId(`Basic ${Buffer.from('client_a:tgs_secret').toString('base64')}`)).toBe('client_a');
    for (const refused of ['Bearer x', 'Basic', 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`])
      expect(basicClientId(refused)).toBeUndefined();
    // A malformed escape in the id: undefined here, as presentedClientCredentials refuses the header.
    const badId = `Basic ${Buffer.from('%E0%A4%A:s').toString('base64')}`;
    expect(basicClientId(badId)).toBeUndefined();
    expect(() => presentedClientCredentials(badId, new URLSearchParams())).toThrow('invalid Authorization header');
  });

  it('reads a private_key_jwt assertion by the same rules: its client named by client_id or its sub', () => {
    const jwt = (claims: object) =>
      `${Buffer.from('{"alg":"EdDSA"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
    const form = (fields: Record<string, string>) =>
      new URLSearchParams({
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        ...fields,
      });
    const assertion = jwt({ sub: 'client_a' });
    expect(presentedClientCredentials('', form({ client_assertion: assertion }))).toEqual({
      id: 'client_a',
      secret: null,
      assertion,
    });
    expect(presentedClientCredentials('', form({ client_assertion: assertion, client_id: 'client_a' }))).toMatchObject({
      id: 'client_a',
    });
    expect(() => presentedClientCredentials('', form({ client_assertion: assertion, client_id: 'client_b' }))).toThrow(
      'client_id mismatch',
    );
    expect(() => presentedClientCredentials('', form({ client_assertion: assertion, client_secret: 'x' }))).toThrow(
      'client authentication must only be provided using one mechanism',
    );
    const basic = `Basic ${Buffer.from('client_a:s').toString('base64')}`;
    expect(() => presentedClientCredentials(basic, form({ client_assertion: assertion }))).toThrow(
      'client authentication must only be provided using one mechanism',
    );
    expect(() =>
      presentedClientCredentials('', new URLSearchParams({ client_assertion: assertion, client_assertion_type: 'x' })),
    ).toThrow('client_assertion_type must have value');
    expect(() => presentedClientCredentials('', form({ client_assertion: 'a.!!!.c' }))).toThrow(
      'invalid client_assertion format',
    );
  });

  it('has a patch for exactly the installed version of oidc-provider', () => {
    const installed = (createRequire(import.meta.url)('oidc-provider/package.json') as { version: string }).version;
    const patches = fs
      .readdirSync(path.resolve(import.meta.dirname, '../../patches'))
      .filter((name) => name.startsWith('oidc-provider+'));
    expect(patches).toEqual([`oidc-provider+${installed}.patch`]);
  });

  it("is the only file in src/ that reaches into oidc-provider's internals", () => {
    const internals =
      /compareClientSecret|Provider\.ctx\b|oidc-provider\/lib|OIDCContext|\.Session\.get|app\.request, 'href'|\.req as \{ body|as unknown as \{ oidc|\(ctx as never\)|ctx as never,|interactionPolicy\b|\.on\('server_error'/;
    const offenders = sourceFilesOfSrc()
      .filter(({ file, text }) => file.split('\\').join('/') !== SEAM && internals.test(text))
      .map(({ file }) => file);
    expect(offenders).toEqual([]);
  });
});

describe('docs/UPGRADING-oidc-provider.md', () => {
  it('describes every reliance the seam checks, under its name', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const seam = fs.readFileSync(path.join(root, 'src', SEAM), 'utf8');
    const union = /export type Reliance =([^;]+);/.exec(seam)![1]!;
    const reliances = [...union.matchAll(/'([a-z-]+)'/g)].map((match) => match[1]);
    expect(reliances.length).toBeGreaterThan(10);
    const doc = fs.readFileSync(path.join(root, 'docs/UPGRADING-oidc-provider.md'), 'utf8');
    const headings = new Set([...doc.matchAll(/^### ([a-z-]+)/gm)].map((match) => match[1]));
    expect(reliances.filter((name) => !headings.has(name))).toEqual([]);
    expect([...headings].filter((name) => !reliances.includes(name))).toEqual([]);
  });
});
