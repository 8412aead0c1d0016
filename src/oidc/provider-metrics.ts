import type Provider from 'oidc-provider';
import type { Metrics } from '../metrics/metrics.js';
import { onEveryErrorEvent, onRefreshTokenReuse } from '../oidc-provider/internals.js';

/**
 * Counts what oidc-provider answers: tokens issued by grant type (grant.success fires only for a
 * grant type the provider is configured with, so the label is bounded), error answers by code,
 * and refresh tokens presented again (a reuse found when the rotation is written is counted by
 * RefreshRotation, after oidc-provider has answered).
 */
export function recordProviderMetrics(provider: Provider, metrics: Metrics): void {
  provider.on('grant.success', (ctx: { oidc?: { params?: { grant_type?: unknown } } }) => {
    metrics.tokensIssued.inc({ grant_type: String(ctx.oidc?.params?.grant_type) });
  });
  onEveryErrorEvent(provider, (error) => {
    const code = (error as { error?: unknown } | undefined)?.error;
    metrics.oauthError(typeof code === 'string' ? code : 'server_error');
  });
  onRefreshTokenReuse(provider, () => metrics.refreshTokenReuse.inc());
}
