import { describe, expect, it } from 'vitest';
import { DEVICE_CODE_GRANT, GRANT_TYPES, GRANT_TYPE_ALIASES } from '../../src/lib/grant-types.js';

/** The grant types a client may be registered for. Combinations: test/admin/admin-api.test.ts. */
describe('grant types', () => {
  it("are client_credentials, authorization_code, refresh_token and RFC 8628's device code: no implicit, no password", () => {
    expect([...GRANT_TYPES]).toEqual([
      'client_credentials',
      'authorization_code',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:device_code',
    ]);
    expect(DEVICE_CODE_GRANT).toBe('urn:ietf:params:oauth:grant-type:device_code');
    for (const refused of ['implicit', 'password', 'token', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
      expect(GRANT_TYPES as readonly string[], refused).not.toContain(refused);
    }
  });

  it('accept device_code as a short name for the device code grant, and no alias names anything unsupported', () => {
    expect(GRANT_TYPE_ALIASES).toEqual({ device_code: DEVICE_CODE_GRANT });
    for (const [alias, grantType] of Object.entries(GRANT_TYPE_ALIASES)) {
      expect(GRANT_TYPES as readonly string[], alias).toContain(grantType);
      expect(GRANT_TYPES as readonly string[], alias).not.toContain(alias);
    }
  });
});
