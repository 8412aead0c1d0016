import { describe, expect, it } from 'vitest';
import { issuerPath, issuerPaths, PROVIDER_ROUTES } from '../../src/web/paths.js';
import { sourceFilesOfSrc } from '../helpers/source-files.js';

/** Code only: comment lines and trailing comments removed (they may name paths in prose). */
function code(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\*|\/\/)/.test(line))
    .map((line) => line.replace(/\s\/\/\s.*$/, ''))
    .join('\n');
}

/**
 * An endpoint or page path written as a string: after a quote, a backtick, or a template's `}`
 * (`${prefix}/token`). Router-relative sub-routes ('/:uid', '/login') are not endpoints.
 */
const ENDPOINT_LITERAL =
  /['"`}]\/(auth|token|device|interaction|session|reg|jwks|me|request|introspection|revocation|assets|challenge|backchannel|credential|\.well-known)(?![\w-])/;

describe('the paths object', () => {
  it('is the only place in src/ that spells an endpoint or page path', () => {
    const offenders = sourceFilesOfSrc()
      .filter(({ file }) => file.split('\\').join('/') !== 'web/paths.ts')
      .flatMap(({ file, text }) =>
        code(text)
          .split('\n')
          .filter((line) => ENDPOINT_LITERAL.test(line))
          .map((line) => `${file}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  it("derives every path from the issuer's path, oidc-provider's routes under it", () => {
    expect(issuerPath('https://id.example.com')).toBe('');
    expect(issuerPath('https://id.example.com/')).toBe('');
    expect(issuerPath('https://id.example.com/tenant-a/')).toBe('/tenant-a');
    const paths = issuerPaths('/tenant-a');
    expect(paths).toMatchObject({
      prefix: '/tenant-a',
      authorization: '/tenant-a/auth',
      token: '/tenant-a/token',
      introspection: '/tenant-a/token/introspection',
      revocation: '/tenant-a/token/revocation',
      userinfo: '/tenant-a/me',
      jwks: '/tenant-a/jwks',
      pushedAuthorization: '/tenant-a/request',
      endSession: '/tenant-a/session/end',
      deviceAuthorization: '/tenant-a/device/auth',
      device: '/tenant-a/device',
      interaction: '/tenant-a/interaction',
      assets: '/tenant-a/assets',
      stylesheet: '/tenant-a/assets/style.css',
      openidDiscovery: '/tenant-a/.well-known/openid-configuration',
      oauthDiscovery: '/.well-known/oauth-authorization-server/tenant-a',
    });
    expect(paths.interactionPage('abc')).toBe('/tenant-a/interaction/abc');
    for (const [name, route] of Object.entries(PROVIDER_ROUTES)) {
      expect(Object.values(issuerPaths('')).includes(route) || name === 'registration', name).toBe(true);
    }
  });
});
