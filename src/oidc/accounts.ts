import type { Knex } from 'knex';
import type { Account, FindAccount } from 'oidc-provider';
import { userStore } from '../users/user-store.js';

/** oidc-provider's view of a user: the claims its scopes release (profile → preferred_username, email → email). */
export function findAccount(db: Knex): FindAccount {
  return async (_ctx, sub): Promise<Account | undefined> => {
    const user = await userStore.byId(db, sub);
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
