import type { Knex } from 'knex';
import type { Account, FindAccount } from 'oidc-provider';
import { FreshnessCache } from '../lib/freshness.js';
import { userStore } from '../users/user-store.js';

/**
 * oidc-provider's view of a user: the claims its scopes release (profile → preferred_username,
 * email → email). Looked up on every code exchange and refresh, so cached like clients: a
 * changed username or email shows within 5 s, and a deleted user's grants are gone at once.
 */
export function findAccount(db: Knex): FindAccount {
  const users = new FreshnessCache((id: string) => userStore.byId(db, id));
  return async (_ctx, sub): Promise<Account | undefined> => {
    const user = await users.get(sub);
    if (!user) return undefined;
    return {
      accountId: user.id,
      claims: () => ({
        sub: user.id,
        preferred_username: user.username,
        ...(user.email ? { email: user.email } : {}),
      }),
    };
  };
}
