import type { Provider } from 'oidc-provider';
import { verifyClientSecret } from '../clients/client-secret.js';

/**
 * oidc-provider authenticates client_secret_basic/post through Client#compareClientSecret, which
 * compares against `client_secret` in the metadata — for Tollgate, the SHA-256 hash. Replacing
 * it makes the presented secret be hashed first. If an upgrade renamed or stopped calling this
 * method, start-up fails here (the method is gone) or test/oidc/client-auth.test.ts fails
 * (presenting the stored hash itself would then authenticate).
 */
export function installClientSecretHook(provider: Provider): void {
  const prototype = provider.Client.prototype as unknown as { compareClientSecret?: unknown; clientSecret?: string };
  if (typeof prototype.compareClientSecret !== 'function') {
    throw new Error('oidc-provider no longer has Client#compareClientSecret: client secret hashing cannot be installed; check the upgrade');
  }
  prototype.compareClientSecret = function compareHashedSecret(this: { clientSecret?: string }, presented: unknown) {
    return verifyClientSecret(presented, this.clientSecret);
  };
}
