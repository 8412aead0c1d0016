import type Koa from 'koa';
import type { Middleware } from 'koa';

/**
 * Headers for every public response. Nothing Tollgate serves may be framed by another site, and
 * nothing it serves runs script — but for oidc-provider's self-submitting form (form_post, and
 * sign-out without a session). oidc-provider adds its script's hash to a `script-src` it finds in
 * the response's policy, so one is always present; selfSubmittingFormPolicy (provider-pages.ts)
 * finishes that page's policy.
 */
export function securityHeaders(): Middleware {
  return (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set(
      'Content-Security-Policy',
      "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    return next();
  };
}

/**
 * With an https ISSUER every browser reaches Tollgate over TLS, terminated by a proxy when the
 * request arrives here as plain http, so every cookie must be `Secure` (RFC 6265 §4.1.2.5: sent
 * over TLS only) whatever the last hop was and whether or not TRUST_PROXY lets
 * X-Forwarded-Proto say so. Koa gives its cookies `secure: request.secure`,
 * and oidc-provider marks its own Secure when the mounted context's `secure` is true (a reliance
 * on its internals, checked at start: src/oidc-provider/internals.ts, "secure-cookies"), so
 * `request.secure` is fixed on the app's request prototype once (not on every request object).
 * With an http issuer it keeps following the request (TLS socket, or a trusted proxy's header).
 */
export function secureCookiesForHttpsIssuer(app: Koa, issuer: string): void {
  if (new URL(issuer).protocol !== 'https:') return;
  Object.defineProperty(app.request, 'secure', { get: () => true, configurable: true });
}
