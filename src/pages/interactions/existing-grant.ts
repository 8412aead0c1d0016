import type { Knex } from 'knex';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ClientDirectory } from '../../clients/client-directory.js';
import { narrowGrant } from '../../oidc/resource-policy.js';
import { consentStore } from './consent-store.js';

type Grant = InstanceType<KoaContextWithOIDC['oidc']['provider']['Grant']>;

/**
 * The grant oidc-provider checks requested scopes against before asking for consent. Beyond the
 * session's own grant: a first-party client, or a device request the person just confirmed, is
 * granted what it asks for (its scopes were already checked against what it is allowed), and
 * otherwise what the user allowed this client before is granted again, so the consent page asks
 * only for what is new — but never beyond what the client is allowed now (narrowGrant): consent
 * remembered before an admin narrowed the client does not bring the removed scopes back.
 */
export function loadExistingGrant(db: Knex, directory: ClientDirectory) {
  return async (ctx: KoaContextWithOIDC): Promise<Grant | undefined> => {
    const { oidc } = ctx;
    const clientId = oidc.client!.clientId;
    const grantId =
      (oidc.result?.consent as { grantId?: string } | undefined)?.grantId || oidc.session!.grantIdFor(clientId);
    if (grantId) {
      const grant = await oidc.provider.Grant.find(grantId);
      if (grant) return grant;
    }
    const accountId = oidc.session!.accountId;
    if (!accountId) return undefined;

    const client = await directory.find(clientId);
    const grant = new oidc.provider.Grant({ accountId, clientId });
    // A device request was confirmed on the device page, which named the client and scopes:
    // that page is its consent, shown every time (RFC 8628 §5.4), never skipped.
    if (client?.firstParty || oidc.route === 'device_resume') {
      const requested = oidc.requestParamScopes;
      grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
      for (const [resource, server] of Object.entries(oidc.resourceServers ?? {})) {
        const allowed = new Set(server.scope.split(' '));
        grant.addResourceScope(resource, [...requested].filter((scope) => allowed.has(scope)).join(' '));
      }
    } else {
      const remembered = await consentStore.find(db, accountId, clientId);
      if (!remembered) return undefined;
      if (remembered.oidcScopes.length) grant.addOIDCScope(remembered.oidcScopes.join(' '));
      for (const [resource, scopes] of Object.entries(remembered.resourceScopes)) {
        if (scopes.length) grant.addResourceScope(resource, scopes.join(' '));
      }
    }
    if (client) narrowGrant(grant as never, client.scopes);
    await grant.save();
    return grant;
  };
}
