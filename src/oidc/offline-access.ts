import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { basePolicyReplacing } from '../oidc-provider/internals.js';

/**
 * The contract: a client allowed the refresh_token grant that asks for `offline_access` gets a
 * refresh token without sending prompt=consent. oidc-provider follows OpenID Connect Core §11
 * and drops `offline_access` unless prompt=consent is present. So an authorization request
 * asking for `offline_access` gets `consent` added to its prompt and a marker saying Tollgate
 * added it; the consent prompt then treats a marked `prompt=consent` as not asked for, so the
 * person sees the consent page only when a scope is not yet granted, as for any other request.
 */
export const IMPLIED_CONSENT_PARAM = 'tollgate_implied_consent';

export function impliedConsentForOfflineAccess(authorizationPath: string): Middleware {
  return (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === authorizationPath) {
      const { scope, prompt } = ctx.query;
      const prompts =
        typeof prompt === 'string' ? prompt.split(' ').filter(Boolean) : prompt === undefined ? [] : undefined;
      if (
        typeof scope === 'string' &&
        scope.split(' ').includes('offline_access') &&
        prompts &&
        !prompts.includes('consent') &&
        !prompts.includes('none')
      ) {
        ctx.query = { ...ctx.query, prompt: [...prompts, 'consent'].join(' '), [IMPLIED_CONSENT_PARAM]: '1' };
      }
    }
    return next();
  };
}

/** oidc-provider's default policy, with the consent prompt honouring only a prompt=consent the client sent. */
export function interactionPolicyWithImpliedConsent() {
  return basePolicyReplacing(
    'consent',
    'consent_prompt',
    (Check) =>
      new Check('consent_prompt', 'consent prompt was not resolved', 'consent_required', (ctx: KoaContextWithOIDC) => {
        const { oidc } = ctx;
        return (
          oidc.prompts.has('consent') && oidc.params?.[IMPLIED_CONSENT_PARAM] !== '1' && oidc.promptPending('consent')
        );
      }),
  );
}
