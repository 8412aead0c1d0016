import { RequestScoped } from './request-scoped.js';

/**
 * Rotating a refresh token is two writes: mark the presented token consumed, insert its
 * successor. oidc-provider makes them as two adapter calls in one request — consume(), then
 * the successor's upsert() — with nothing issued in between. Tollgate joins them into one
 * statement (one round trip and one commit instead of two): consume() of a refresh token
 * during a request only notes the token here, and the successor's upsert runs the conditional
 * `UPDATE … WHERE consumed_at IS NULL` and the INSERT together, inserting only if the update
 * won (oidcPayloadStore.rotate). A loser — a replay, or a concurrent use of the same token —
 * learns it there, before any token of its response exists, and gets invalid_grant.
 *
 * If the request fails between the two calls nothing is written: the presented token stays as
 * it was, and nothing was issued for it. Outside a request consume() writes at once.
 */
export class RefreshRotation {
  readonly #presented = new RequestScoped<string>();

  /** Notes the presented token; false outside a request, where the caller consumes it now. */
  defer(presentedId: string): boolean {
    return this.#presented.set(PRESENTED, presentedId);
  }

  /** The token this request presented and has not yet consumed, if any. */
  takePresented(): string | undefined {
    return this.#presented.take(PRESENTED)?.value;
  }
}

/** A request rotates at most one refresh token. */
const PRESENTED = 'presented';
