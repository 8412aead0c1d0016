import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientToJson, type Client } from '../../src/clients/client.js';
import { hashClientSecret } from '../../src/clients/client-secret.js';
import { parseRate } from '../../src/lib/rate.js';

/** A client as the admin API and the CLI show it, without a server. Through the API: test/admin/admin-api.test.ts. */

const uri = fc.webUrl();
const client: fc.Arbitrary<Client> = fc.record({
  id: fc.uuid(),
  name: fc.string({ minLength: 1 }),
  secretHash: fc.option(fc.string({ minLength: 8 }).map(hashClientSecret), { nil: null }),
  isPublic: fc.boolean(),
  authMethod: fc.constantFrom(
    'client_secret_basic',
    'private_key_jwt',
    'tls_client_auth',
    'self_signed_tls_client_auth',
    'none',
  ),
  tlsSubjectDn: fc.option(fc.constant('CN=orders,O=Acme'), { nil: null }),
  tlsSanDns: fc.option(fc.constant('orders.internal'), { nil: null }),
  certificateBound: fc.boolean(),
  firstParty: fc.boolean(),
  grantTypes: fc.subarray(['client_credentials', 'authorization_code', 'refresh_token']),
  redirectUris: fc.array(uri, { maxLength: 3 }),
  postLogoutRedirectUris: fc.array(uri, { maxLength: 2 }),
  scopes: fc.array(fc.constantFrom('openid', 'profile', 'ledger:read', 'ledger:write'), { maxLength: 4 }),
  disabled: fc.boolean(),
  rateLimit: fc.option(
    fc.record({ points: fc.integer({ min: 1, max: 1000 }), durationSeconds: fc.constantFrom(1, 60, 3600, 300) }),
    { nil: null },
  ),
  createdAt: fc.date({ noInvalidDate: true }),
  updatedAt: fc.date({ noInvalidDate: true }),
});

describe('clientToJson', () => {
  it('shows every field in snake_case and never the secret hash', () => {
    fc.assert(
      fc.property(client, (value) => {
        const json = clientToJson(value);
        expect(Object.keys(json).sort()).toEqual([
          'client_id',
          'created_at',
          'disabled',
          'first_party',
          'grant_types',
          'name',
          'post_logout_redirect_uris',
          'public',
          'rate_limit',
          'redirect_uris',
          'scopes',
          'tls_client_auth_san_dns',
          'tls_client_auth_subject_dn',
          'tls_client_certificate_bound_access_tokens',
          'token_endpoint_auth_method',
          'updated_at',
        ]);
        if (value.secretHash) expect(JSON.stringify(json)).not.toContain(value.secretHash.slice('sha256:'.length));
        expect(json).toMatchObject({
          client_id: value.id,
          name: value.name,
          public: value.isPublic,
          first_party: value.firstParty,
          disabled: value.disabled,
          grant_types: value.grantTypes,
          redirect_uris: value.redirectUris,
          post_logout_redirect_uris: value.postLogoutRedirectUris,
          scopes: value.scopes,
          created_at: value.createdAt.toISOString(),
          updated_at: value.updatedAt.toISOString(),
        });
        // Spelled as the operator would write it, and read back to the same rate.
        expect(json.rate_limit === null ? null : parseRate(json.rate_limit)).toEqual(value.rateLimit);
      }),
    );
  });

  it('says how the client authenticates: its registered method (none, its secret, or private_key_jwt)', () => {
    fc.assert(
      fc.property(client, (value) => {
        expect(clientToJson(value).token_endpoint_auth_method).toBe(value.authMethod);
      }),
    );
  });
});
