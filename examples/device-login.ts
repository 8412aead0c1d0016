/**
 * A tiny CLI that signs in with the device flow (RFC 8628) and prints the access token's claims.
 *
 *   TOLLGATE_ISSUER=http://localhost:3000 TOLLGATE_CLIENT_ID=client_… \
 *     npx tsx examples/device-login.ts "openid offline_access orders:read"
 *
 * (or build it with the project: npm run build && node dist/examples/device-login.js …)
 */
import * as oidc from 'openid-client';

const issuer = new URL(process.env.TOLLGATE_ISSUER ?? 'http://localhost:3000');
const clientId = process.env.TOLLGATE_CLIENT_ID;
const scope = process.argv[2] ?? 'openid offline_access';

if (!clientId) {
  process.stderr.write('set TOLLGATE_CLIENT_ID to a public client allowed the device_code grant\n');
  process.exit(2);
}

// Plain http is only for a local Tollgate; a real issuer is https.
const options = issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined;
const config = await oidc.discovery(issuer, clientId, undefined, oidc.None(), options);

const device = await oidc.initiateDeviceAuthorization(config, { scope });
process.stdout.write(`\nOpen ${device.verification_uri} and enter ${device.user_code}\n`);
if (device.verification_uri_complete) process.stdout.write(`(or open ${device.verification_uri_complete})\n`);
process.stdout.write('Waiting for you to approve…\n\n');

try {
  const tokens = await oidc.pollDeviceAuthorizationGrant(config, device);
  const [, payload] = tokens.access_token.split('.');
  const claims = payload ? JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) : { opaque: true };
  process.stdout.write(`Signed in. Access token claims:\n${JSON.stringify(claims, null, 2)}\n`);
  if (tokens.refresh_token) process.stdout.write('A refresh token was issued as well (offline_access).\n');
} catch (error) {
  const code = error instanceof oidc.ResponseBodyError ? error.error : (error as Error).message;
  process.stderr.write(`Sign-in failed: ${code}\n`);
  process.exit(1);
}
