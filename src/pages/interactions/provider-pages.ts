import type { Middleware } from 'koa';
import { gated } from '../../web/path-gate.js';
import type { Paths } from '../../web/paths.js';
import { providerRequestOf, type ProviderPageContext } from '../../oidc-provider/internals.js';
import { html, trustedHtml } from '../../web/html.js';
import { formTargets, sendPage } from '../../web/page.js';

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

function clientName(ctx: ProviderPageContext): string {
  const client = ctx.oidc?.client;
  return client ? ` for ${client.clientName ?? client.clientId}` : '';
}

/** The pages oidc-provider renders itself, in Tollgate's look: error, sign-out question, signed out. */
export function providerPages(assets: string) {
  return {
    renderError(ctx: ProviderPageContext, out: { error: string; error_description?: string }) {
      const words = ERROR_WORDS[out.error] ?? 'Something went wrong with this sign-in request.';
      sendPage(ctx, assets, {
        view: 'error',
        title: 'Something went wrong',
        status: ctx.status >= 400 ? ctx.status : 400,
        values: {
          heading: 'Something went wrong',
          message: words,
          detail: html` <p class="account">
            <code>${out.error.replace(/[^\w.-]/g, '')}</code
            >${out.error_description ? html` — ${out.error_description}` : ''}
          </p>`,
        },
      });
    },
    logoutSource(ctx: ProviderPageContext, form: string) {
      // The form's redirect ends at the client's post-logout URI: form-action must allow it.
      const redirectUris = [...(ctx.oidc?.client?.postLogoutRedirectUris ?? [])];
      sendPage(ctx, assets, {
        view: 'logout',
        title: 'Sign out',
        redirectUris,
        values: { client: clientName(ctx), form: trustedHtml(form) },
      });
    },
    postLogoutSuccessSource(ctx: ProviderPageContext) {
      sendPage(ctx, assets, { view: 'logged-out', title: 'Signed out', values: { client: clientName(ctx) } });
    },
  };
}

/**
 * oidc-provider answers with a page that submits a form by inline script in two places: the
 * `form_post` response mode (OAuth 2.0 Form Post Response Mode), posting the code to the client's
 * redirect URI, and sign-out without a session, posting to its own confirmation, which then
 * redirects to the client's post-logout URI. Under the global policy both were blank pages. It
 * writes the `sha256-` hash of exactly its script into the policy's `script-src` (CSP3 §8.2 hash
 * sources: that script and no other runs, nothing else changes); this completes the policy:
 * `'none'` leaves script-src, and form-action allows where the form goes — the redirect URI or
 * post-logout URI, both already checked by oidc-provider against the client's registered ones
 * before it renders the form (browsers apply form-action to the redirects after a submission).
 * Without script the page's own button submits the form.
 */
export function selfSubmittingFormPolicy(paths: Pick<Paths, 'authorization' | 'endSession'>): Middleware {
  const { authorization, endSession } = paths;
  const renders = (path: string) =>
    path === authorization || path.startsWith(`${authorization}/`) || path === endSession;
  return gated(
    (ctx) => renders(ctx.path),
    async (ctx, next) => {
      await next();
      const csp = ctx.response.get('Content-Security-Policy');
      if (!csp.includes("'sha256-") || !ctx.response.is('html')) return;
      const params = providerRequestOf(ctx)?.params ?? {};
      const destinations = [params.redirect_uri, params.post_logout_redirect_uri].filter(
        (uri): uri is string => typeof uri === 'string',
      );
      const directives = csp
        .split(';')
        .map((directive) => directive.trim())
        .filter(Boolean)
        .map((directive) => {
          const [name, ...values] = directive.split(/\s+/);
          if (name === 'script-src') return [name, ...values.filter((value) => value !== "'none'")].join(' ');
          if (name === 'form-action') return [name, ...new Set([...values, ...formTargets(destinations)])].join(' ');
          return directive;
        });
      ctx.set('Content-Security-Policy', directives.join('; '));
    },
  );
}
