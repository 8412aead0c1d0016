import type { Payload } from '../artefacts/payload-store.js';
import { RequestScoped } from './request-scoped.js';

/**
 * On the token endpoint oidc-provider finds a code or refresh token, then — a few checks later,
 * in the same request — the Grant it names. The adapter reads both in one statement and parks
 * the Grant here, so the second lookup costs no round trip.
 *
 * A parked Grant is served once, only to the request that read it, and only for the grant id
 * the token named; writing or revoking that grant in the request drops it.
 */
export class GrantPrefetch {
  readonly #parked = new RequestScoped<Payload | undefined>();

  /** `grant` undefined: the token names a grant that does not exist (any more). */
  park(grantId: string, grant: Payload | undefined): void {
    this.#parked.set(grantId, grant);
  }

  /** The parked Grant, or undefined when none was parked for this id in this request. */
  take(grantId: string): { grant: Payload | undefined } | undefined {
    const parked = this.#parked.take(grantId);
    return parked && { grant: parked.value };
  }

  forget(grantId: string): void {
    this.#parked.delete(grantId);
  }
}
