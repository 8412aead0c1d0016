import type { Knex } from 'knex';

export interface RememberedConsent {
  oidcScopes: string[];
  /** API identifier → scopes allowed for it. */
  resourceScopes: Record<string, string[]>;
}

/** SQL for remembered consent, per user and client. */
export const consentStore = {
  async find(db: Knex, userId: string, clientId: string): Promise<RememberedConsent | undefined> {
    const row = await db('consents').where({ user_id: userId, client_id: clientId }).first();
    if (!row) return undefined;
    const resourceScopes =
      typeof row.resource_scopes === 'string' ? JSON.parse(row.resource_scopes) : row.resource_scopes;
    return { oidcScopes: row.oidc_scopes, resourceScopes };
  },

  /** Adds to what the user already allowed the client. */
  async remember(db: Knex, userId: string, clientId: string, consent: RememberedConsent): Promise<void> {
    await db.transaction(async (trx) => {
      const existing = await consentStore.find(trx, userId, clientId);
      const oidcScopes = [...new Set([...(existing?.oidcScopes ?? []), ...consent.oidcScopes])];
      const resourceScopes = { ...existing?.resourceScopes };
      for (const [resource, scopes] of Object.entries(consent.resourceScopes)) {
        resourceScopes[resource] = [...new Set([...(resourceScopes[resource] ?? []), ...scopes])];
      }
      await trx('consents')
        .insert({
          user_id: userId,
          client_id: clientId,
          oidc_scopes: oidcScopes,
          resource_scopes: JSON.stringify(resourceScopes),
          updated_at: trx.fn.now(),
        })
        .onConflict(['user_id', 'client_id'])
        .merge(['oidc_scopes', 'resource_scopes', 'updated_at']);
    });
  },
};
