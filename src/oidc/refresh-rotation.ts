import type { Middleware } from 'koa';
import { sendErrorResponse } from '../web/error-response.js';
import { gated } from '../web/path-gate.js';
import type { Paths } from '../web/paths.js';
import { TollgateError } from '../lib/errors.js';
import { RequestScoped } from './request-scoped.js';

/** A refresh token's rotation, decided but not yet written. */
export interface PendingRotation {
  /**
   * Consumes the presented token and inserts its successor, in one statement; false when the
   * presented token was consumed meanwhile (its family then revoked).
   */
  commit(): Promise<boolean>;
}

/**
 * Rotating a refresh token is two writes: mark the presented token consumed, insert its
 * successor. oidc-provider makes them as two adapter calls — consume(), then the successor's
 * upsert() — and then goes on to resolve the resource, mint the access token and the ID token,
 * any of which can still fail (invalid_target, invalid_scope, a server error). Written at once,
 * a failure there would leave the presented token consumed and a successor nobody received: the
 * client's retry would look like reuse and revoke the family.
 *
 * So nothing is written until the token response is known to be a success: consume() of a
 * refresh token during a request only notes the token here, the successor's upsert() parks the
 * rotation, and commitOnSuccess() — a middleware around the token endpoint — commits it when
 * the response is a 200, before it is sent. Any other response drops it: the presented token
 * stays exactly as it was and works once more (the contract: a failed token request changes
 * nothing). The commit is one conditional statement (`UPDATE … WHERE consumed_at IS NULL` and
 * the INSERT of the successor together, oidcPayloadStore.rotate): a concurrent or replayed
 * presentation loses there, its family is revoked, and its response becomes invalid_grant —
 * none of the tokens it minted is ever sent (RFC 6749 §10.4, RFC 9700 §4.14.2).
 *
 * Outside a request consume() writes at once.
 */
export class RefreshRotation {
  readonly #presented = new RequestScoped<string>();
  readonly #pending = new RequestScoped<PendingRotation>();

  /**
   * `onReuseRefused`: told, with the request's context, when a commit loses to an earlier use and
   * the response becomes invalid_grant.
   */
  constructor(private readonly onReuseRefused: (ctx: object) => void = () => {}) {}

  /** Notes the presented token; false outside a request, where the caller consumes it now. */
  defer(presentedId: string): boolean {
    return this.#presented.set(ONE, presentedId);
  }

  /** The token this request presented and has not yet consumed, if any. */
  takePresented(): string | undefined {
    return this.#presented.take(ONE)?.value;
  }

  /** Keeps the rotation until the response is known; false outside a request. */
  park(rotation: PendingRotation): boolean {
    return this.#pending.set(ONE, rotation);
  }

  /** Around the token endpoint: commits a parked rotation if, and only if, the response is a success. */
  commitOnSuccess(paths: Pick<Paths, 'token'>): Middleware {
    const { token } = paths;
    return gated(
      (ctx) => ctx.method === 'POST' && ctx.path === token,
      async (ctx, next) => {
        await next();
        // oidc-provider's request context is the Koa context: the rotation was parked under it.
        const pending = this.#pending.takeFrom(ctx, ONE)?.value;
        if (!pending || ctx.status !== 200) return;
        if (await pending.commit()) return;
        this.onReuseRefused(ctx);
        sendErrorResponse(ctx, new TollgateError(400, 'invalid_grant', 'refresh token already used'));
      },
    );
  }
}

/** A request rotates at most one refresh token. */
const ONE = 'one';
