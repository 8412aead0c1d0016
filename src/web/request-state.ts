import type { Context } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * What Tollgate's middleware and oidc-provider's page hooks tell each other about one request.
 * It lives in Koa's `ctx.state`, which Koa types as `any`: so each key is declared here once, with
 * its type and who writes and reads it, and nothing else touches `ctx.state`.
 */
export interface RequestState {
  /**
   * The code of a verification_uri_complete (RFC 8628 §3.3.1), taken off the query by the code
   * entry (device/code-entry.ts) so that the code form pre-fills it rather than submitting it.
   */
  prefillUserCode?: string;
  /**
   * Set by the code form (device/device-pages.ts) when oidc-provider refused the entered code as
   * wrong, expired or used: the code entry then keeps that attempt's throttle reservation.
   */
  deviceCodeRejected?: boolean;
}

/** This request's state. Mounted, oidc-provider runs on the same Koa context: its page hooks share it. */
export function requestState(ctx: Pick<Context, 'state'>): RequestState {
  return ctx.state as RequestState;
}

/** What oidc-provider put on a request it handled (which route, which client); undefined before it. */
export function providerContext(ctx: Context): KoaContextWithOIDC['oidc'] | undefined {
  return (ctx as Partial<KoaContextWithOIDC>).oidc;
}
