import { describe, expect, it } from 'vitest';
import {
  createApiBody,
  createClientBody,
  createUserBody,
  parseInput,
  rotateKeysBody,
  updateClientBody,
  updateUserBody,
} from '../../src/contract/index.js';
import { DEVICE_CODE_GRANT } from '../../src/lib/grant-types.js';

const asFlag = (field: string) => `--${field.replace(/_/g, '-')}`;

describe('the admin contract turns wire JSON into service input', () => {
  it('parses snake_case fields into camelCase input, with defaults, trimmed text and split lists', () => {
    expect(
      parseInput(createApiBody, {
        identifier: 'https://api.example.com',
        name: ' Orders ',
        scopes: 'o:read, o:write',
        token_ttl: 900,
        alg: null,
      }),
    ).toEqual({
      ok: true,
      value: {
        identifier: 'https://api.example.com',
        name: 'Orders',
        scopes: ['o:read', 'o:write'],
        tokenTtl: 900,
        alg: undefined,
      },
    });
    expect(
      parseInput(createClientBody, { name: 'cli', grant_types: 'device_code refresh_token', public: true }),
    ).toEqual({
      ok: true,
      value: {
        name: 'cli',
        isPublic: true,
        authMethod: 'none',
        publicKey: undefined,
        tlsSubjectDn: null,
        tlsSanDns: null,
        certificateBound: false,
        firstParty: false,
        grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'],
        redirectUris: [],
        postLogoutRedirectUris: [],
        scopes: [],
        rateLimit: null,
      },
    });
    expect(parseInput(createUserBody, { username: 'grace', password: ' spaced ' })).toEqual({
      ok: true,
      value: { username: 'grace', email: null, password: ' spaced ' },
    });
    expect(parseInput(rotateKeysBody, {})).toEqual({ ok: true, value: { force: false } });
  });

  it('keeps "absent" and "null" apart only where null means something (a user\'s email, a client\'s rate limit)', () => {
    expect(parseInput(updateUserBody, { email: null })).toEqual({
      ok: true,
      value: { username: undefined, email: null },
    });
    expect(parseInput(updateClientBody, { name: null, disabled: true })).toMatchObject({
      ok: true,
      value: { name: undefined, disabled: true },
    });
    expect(parseInput(updateClientBody, { rate_limit: null })).toMatchObject({ ok: true, value: { rateLimit: null } });
    expect(parseInput(updateClientBody, { rate_limit: '10/s' })).toMatchObject({
      ok: true,
      value: { rateLimit: { points: 10, durationSeconds: 1 } },
    });
    expect(
      parseInput(createClientBody, { name: 'c', grant_types: 'client_credentials', rate_limit: null }),
    ).toMatchObject({ ok: true, value: { rateLimit: null } });
    expect(parseInput(updateUserBody, { username: null })).toMatchObject({
      ok: false,
      problem: { message: 'username is required', missing: true },
    });
  });
});

describe('the admin contract words bad input once, naming the field as the caller names it', () => {
  const cases: Array<[string, typeof createApiBody | typeof createClientBody, unknown, string]> = [
    ['not an object', createApiBody, ['x'], 'the request body must be a JSON object'],
    [
      'unknown fields first',
      createApiBody,
      { identifier: 5, audience: 'x' },
      'unknown field: audience (allowed: identifier, name, scopes, token_ttl, alg)',
    ],
    ['wrong type', createApiBody, { identifier: 42 }, 'identifier must be a string'],
    ['whole number', createApiBody, { identifier: 'urn:x', token_ttl: 1.5 }, 'token_ttl must be a whole number'],
    ['range', createApiBody, { identifier: 'urn:x', token_ttl: 0 }, 'token_ttl must be between 1 and 3600, got 0'],
    ['choices', createApiBody, { identifier: 'urn:x', alg: 'HS256' }, 'alg must be one of ES256, RS256, PS256, EdDSA'],
    ['twice', createApiBody, { identifier: 'urn:x', scopes: ['a', 'a'] }, 'scopes lists "a" twice'],
    [
      'control character',
      createApiBody,
      { identifier: 'urn:x', name: 'a\u0007' },
      'name must not contain control characters',
    ],
    ['missing, with a hint', createClientBody, { name: 'x' }, 'grant_types is required, e.g. client_credentials'],
    ['list of strings', createClientBody, { name: 'x', grant_types: [1] }, 'grant_types must be a list of strings'],
  ];
  it.each(cases)('%s', (_, schema, input, message) => {
    const result = parseInput(schema, input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.message).toBe(message);
  });

  it('names a field by its option for the CLI, keeping the sentence around it', () => {
    const result = parseInput(createApiBody, { identifier: 'urn:x', token_ttl: 4000 }, asFlag);
    expect(result).toMatchObject({ ok: false, problem: { field: 'token_ttl' } });
    if (!result.ok) expect(result.problem.message).toMatch(/^--token-ttl may be at most 3600 seconds .*, got 4000$/);
  });
});
