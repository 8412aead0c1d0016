import type { Provider } from 'oidc-provider';
import { verifyClientSecret } from '../clients/client-secret.js';
import { replaceClientSecretComparison } from '../oidc-provider/internals.js';

/**
 * oidc-provider authenticates client_secret_basic/post by comparing against `client_secret` in
 * the metadata — for Tollgate, the SHA-256 hash. Replacing the comparison makes the presented
 * secret be hashed first. If an upgrade stopped calling it, test/db/storage.test.ts
 * fails (presenting the stored hash itself would then authenticate).
 */
export function installClientSecretHook(provider: Provider): void {
  replaceClientSecretComparison(provider, verifyClientSecret);
}
