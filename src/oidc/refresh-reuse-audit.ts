import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import { ANONYMOUS_ACTOR, type AuditEntry } from '../audit/audit-entry.js';
import type { AuditLog } from '../audit/audit-log.js';
import { formHandedToProvider, presentedRefreshToken } from '../oidc-provider/internals.js';
import { gated } from '../web/path-gate.js';
import type { Paths } from '../web/paths.js';

/** False only for a form already read that names one grant type other than refresh_token. */
function mayPresentRefreshToken(req: IncomingMessage): boolean {
  const grantType = formHandedToProvider(req)?.grant_type;
  return typeof grantType !== 'string' || grantType === 'refresh_token';
}

/**
 * Records each reuse of a refresh token — its family revoked — in the audit log, whichever part
 * found it: oidc-provider (a used token presented again), Tollgate's adapter (one consumed
 * meanwhile) or RefreshRotation (a concurrent use won the commit). They only note it for the
 * request (oidc-provider tells it by an event it does not wait on); the entry is written around
 * the token endpoint, before the answer leaves, so it is there once the client has its
 * invalid_grant. The entry names the client and the account, never the token.
 */
export class RefreshReuseAudit {
  readonly #noted = new WeakMap<object, AuditEntry>();

  constructor(private readonly audit: AuditLog) {}

  /** A reuse found while serving this request (`ctx`: the Koa context oidc-provider shares). */
  note(ctx: object): void {
    const { clientId, accountId, grantId } = presentedRefreshToken(ctx);
    this.#noted.set(ctx, {
      type: 'refresh_token.reused',
      actor: clientId ?? ANONYMOUS_ACTOR,
      subject: accountId ?? null,
      ip: (ctx as { ip?: string }).ip ?? null,
      detail: { client_id: clientId ?? null, grant_id: grantId ?? null, family_revoked: true },
    });
  }

  /**
   * Around the token endpoint, outside RefreshRotation.commitOnSuccess: writes what was noted.
   * Only refresh_token requests can note a reuse; a request whose form (read by the input guard)
   * names another grant type goes straight on, without an async frame around it (issue 16).
   */
  recordAfter(paths: Pick<Paths, 'token'>): Middleware {
    const { token } = paths;
    return gated(
      (ctx) => ctx.method === 'POST' && ctx.path === token && mayPresentRefreshToken(ctx.req),
      async (ctx, next) => {
        await next();
        const entry = this.#noted.get(ctx);
        if (!entry) return;
        this.#noted.delete(ctx);
        await this.audit.record(entry);
      },
    );
  }
}
