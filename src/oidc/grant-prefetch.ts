import Provider from 'oidc-provider';
import type { Payload } from './payload-store.js';

/**
 * On the token endpoint oidc-provider finds a code or refresh token, then — a few checks later,
 * in the same request — the Grant it names. The adapter reads both in one statement and parks
 * the Grant here, keyed by the request (oidc-provider's AsyncLocalStorage context), so the
 * second lookup costs no round trip.
 *
 * An entry is served once, only to the request that read it, and only for the grant id the
 * token named; writing or revoking that grant in the request drops it. Outside a request
 * (no context) nothing is parked and every lookup goes to the database.
 */
export class GrantPrefetch {
  readonly #byRequest = new WeakMap<object, Map<string, Payload | undefined>>();

  park(grantId: string, grant: Payload | undefined): void {
    const request = Provider.ctx;
    if (!request) return;
    let parked = this.#byRequest.get(request);
    if (!parked) this.#byRequest.set(request, (parked = new Map()));
    parked.set(grantId, grant);
  }

  /** The parked Grant (undefined when it did not exist) or `miss` when nothing is parked. */
  take(grantId: string): Payload | undefined | typeof GrantPrefetch.miss {
    const parked = this.#parked();
    if (!parked?.has(grantId)) return GrantPrefetch.miss;
    const grant = parked.get(grantId);
    parked.delete(grantId);
    return grant;
  }

  forget(grantId: string): void {
    this.#parked()?.delete(grantId);
  }

  #parked(): Map<string, Payload | undefined> | undefined {
    const request = Provider.ctx;
    return request ? this.#byRequest.get(request) : undefined;
  }

  static readonly miss = Symbol('not prefetched');
}
