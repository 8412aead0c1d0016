import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { escapeHtml } from '../http/html.js';
import { SafeHtml, sendPage } from './page.js';

/** Words for the errors a person can meet in the browser (RFC 6749 §4.1.2.1 and oidc-provider's). */
const ERROR_WORDS: Record<string, string> = {
  invalid_request: 'The app sent an invalid sign-in request.',
  invalid_client: 'The app is not registered here, or is disabled.',
  invalid_redirect_uri: 'The app asked to return to an address it has not registered.',
  invalid_scope: 'The app asked for access it is not allowed.',
  invalid_target: 'The app asked for an API that is not registered.',
  unauthorized_client: 'The app is not allowed to sign people in this way.',
  access_denied: 'Access was denied.',
  invalid_grant: 'The sign-in request is no longer valid.',
};

type ContextLike = Parameters<NonNullable<Configuration['renderError']>>[0];

function clientName(ctx: KoaContextWithOIDC): string {
  const client = ctx.oidc?.client;
  return client ? ` for ${client.clientName ?? client.clientId}` : '';
}

/** The pages oidc-provider renders itself, in Tollgate's look: error, sign-out question, signed out. */
export function providerPages(assets: string) {
  return {
    renderError(ctx: ContextLike, out: { error: string; error_description?: string }) {
      const words = ERROR_WORDS[out.error] ?? 'Something went wrong with this sign-in request.';
      sendPage(ctx as never, assets, {
        view: 'error',
        title: 'Something went wrong',
        status: ctx.status >= 400 ? ctx.status : 400,
        values: {
          heading: 'Something went wrong',
          message: words,
          detail: new SafeHtml(`    <p class="account"><code>${out.error.replace(/[^\w.-]/g, '')}</code>${out.error_description ? ` — ${escapeHtml(out.error_description)}` : ''}</p>`),
        },
      });
    },
    logoutSource(ctx: KoaContextWithOIDC, form: string) {
      // The form's redirect ends at the client's post-logout URI: form-action must allow it.
      const redirectUris = [...(ctx.oidc?.client?.postLogoutRedirectUris ?? [])];
      sendPage(ctx as never, assets, { view: 'logout', title: 'Sign out', redirectUris, values: { client: clientName(ctx), form: new SafeHtml(form) } });
    },
    postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
      sendPage(ctx as never, assets, { view: 'logged-out', title: 'Signed out', values: { client: clientName(ctx) } });
    },
  };
}
