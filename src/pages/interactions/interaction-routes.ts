import type { Context } from 'koa';
import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { ProviderHost } from '../../oidc/provider-host.js';
import type { Paths } from '../../web/paths.js';
import { errors, type InteractionResults } from 'oidc-provider';
import type { Knex } from 'knex';
import type { ApiCatalog } from '../../apis/api-catalog.js';
import type { Logger } from '../../log.js';
import { userStore } from '../../users/user-store.js';
import { decoyHash, verifyPassword } from '../../users/password.js';
import { consentStore } from './consent-store.js';
import type { CsrfTokens } from './csrf.js';
import { readForm } from './form-body.js';
import { html } from '../../web/html.js';
import { errorMessage, sendPage } from '../../web/page.js';
import { scopeList } from './scope-list.js';
import { describeApiScope, describeOidcScope } from './scope-words.js';
import { BusyError } from '../../lib/bounded-semaphore.js';
import type { Metrics } from '../../metrics/metrics.js';
import { passwordSubjects, slowDownMs, WINDOW_SECONDS, type AttemptThrottle } from './attempt-throttle.js';
import { ANONYMOUS_ACTOR, type AuditType } from '../../audit/audit-entry.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { RecentKeys } from '../../audit/recent-keys.js';

export interface InteractionDependencies {
  providers: ProviderHost;
  db: Knex;
  catalog: ApiCatalog;
  throttle: AttemptThrottle;
  csrf: CsrfTokens;
  logger: Logger;
  metrics: Metrics;
  /** Where failed and refused sign-ins are recorded. */
  audit: AuditLog;
  /** Where pages find the stylesheet (under the issuer's path). */
  assets: string;
  /** Where the interaction routes are mounted. */
  paths: Pick<Paths, 'interaction' | 'interactionPage'>;
}

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

interface ClientView {
  name: string;
  redirectUris: string[];
}

/** The login and consent pages oidc-provider sends a person to (its "interactions"). */
export function interactionRoutes(deps: InteractionDependencies): Router {
  const { csrf } = deps;
  // Always deps.providers.current: the key ring may have swapped the Provider since the page was shown.
  const router = new Router({ prefix: deps.paths.interaction });
  const recentlyThrottled = new RecentKeys(60_000);

  /**
   * A failed or refused sign-in, by nobody known yet (`anonymous`), about the username tried,
   * from the address TRUST_PROXY says; the password tried is never part of it.
   */
  function auditSignIn(ctx: Context, type: AuditType, username: string, client: string, detail: object) {
    return deps.audit.record({
      type,
      actor: ANONYMOUS_ACTOR,
      subject: username,
      ip: ctx.ip,
      detail: { client_id: client, ...detail },
    });
  }

  async function clientOf(interaction: Interaction): Promise<ClientView> {
    const client = await deps.providers.current.Client.find(String(interaction.params.client_id));
    return {
      name: client?.clientName ?? String(interaction.params.client_id),
      redirectUris: [...(client?.redirectUris ?? [])],
    };
  }

  function finish(ctx: Context, result: InteractionResults, merge: boolean): Promise<void> {
    return deps.providers.current
      .interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge })
      .then((returnTo) => {
        ctx.status = 303;
        ctx.redirect(returnTo);
      });
  }

  function loginPage(
    ctx: Context,
    interaction: Interaction,
    client: ClientView,
    extra: { username?: string; error?: string; status?: number } = {},
  ) {
    sendPage(ctx, deps.assets, {
      view: 'login',
      title: 'Sign in',
      status: extra.status ?? 200,
      redirectUris: client.redirectUris,
      values: {
        client: client.name,
        action: `${deps.paths.interactionPage(interaction.uid)}/login`,
        csrf: csrf.for(interaction.uid),
        username: extra.username ?? '',
        error: extra.error ? errorMessage(extra.error) : html``,
      },
    });
  }

  async function consentPage(ctx: Context, interaction: Interaction, client: ClientView) {
    const details = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const snapshot = await deps.catalog.snapshot();
    const lines = [
      ...(details.missingOIDCScope ?? []).map(describeOidcScope),
      ...Object.entries(details.missingResourceScopes ?? {}).flatMap(([resource, scopes]) =>
        scopes.map((scope) => describeApiScope(scope, snapshot.byIdentifier.get(resource))),
      ),
    ];
    const user = interaction.session?.accountId
      ? await userStore.byId(deps.db, interaction.session.accountId)
      : undefined;
    sendPage(ctx, deps.assets, {
      view: 'consent',
      title: 'Allow access',
      redirectUris: client.redirectUris,
      values: {
        client: client.name,
        scopes: scopeList(lines),
        username: user?.username ?? '',
        action: `${deps.paths.interactionPage(interaction.uid)}/confirm`,
        csrf: csrf.for(interaction.uid),
      },
    });
  }

  /** An expired, finished or foreign interaction is a page, not a stack trace. */
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof errors.SessionNotFound)) throw error;
      sendPage(ctx, deps.assets, {
        view: 'error',
        title: 'Sign-in expired',
        status: 400,
        values: {
          heading: 'This sign-in has expired',
          message: 'It was already completed, or took too long. Go back to the app and start again.',
          detail: html``,
        },
      });
    }
  });

  router.get('/:uid', async (ctx) => {
    const interaction = await deps.providers.current.interactionDetails(ctx.req, ctx.res);
    const client = await clientOf(interaction);
    if (interaction.prompt.name === 'login') return loginPage(ctx, interaction, client);
    if (interaction.prompt.name === 'consent') return consentPage(ctx, interaction, client);
    throw new errors.SessionNotFound(`unexpected prompt ${interaction.prompt.name}`);
  });

  router.post('/:uid/login', async (ctx) => {
    const interaction = await deps.providers.current.interactionDetails(ctx.req, ctx.res);
    const client = await clientOf(interaction);
    const form = await readForm(ctx);
    if (interaction.prompt.name !== 'login') return ctx.redirect(deps.paths.interactionPage(interaction.uid));
    if (!form || !csrf.verify(interaction.uid, form.get('csrf'))) {
      return loginPage(ctx, interaction, client, {
        status: 403,
        error: 'This form has expired. Please sign in again.',
      });
    }
    const username = (form.get('username') ?? '').trim().slice(0, 256);
    const password = form.get('password') ?? '';
    if (!username || !password) {
      return loginPage(ctx, interaction, client, { status: 400, username, error: 'Enter your username and password.' });
    }
    // Counted before the password is checked (reserve, then verify): see attempt-throttle.ts.
    const subjects = passwordSubjects(username, ctx.ip);
    const reserved = await deps.throttle.reserve(subjects);
    if (!reserved.allowed) {
      deps.metrics.signInThrottled.inc();
      if (recentlyThrottled.firstInInterval(`${username}\n${ctx.ip}`)) {
        await auditSignIn(ctx, 'sign_in.throttled', username, String(interaction.params.client_id), {
          retry_after: reserved.retryAfterSeconds,
          window_seconds: WINDOW_SECONDS,
        });
      }
      ctx.set('Retry-After', String(reserved.retryAfterSeconds));
      return loginPage(ctx, interaction, client, {
        status: 429,
        username,
        error: 'Too many attempts. Please try again later.',
      });
    }
    const earlierUsernameFailures = (reserved.reservations.find((r) => r.subject.kind === 'username')?.count ?? 1) - 1;
    const delay = slowDownMs(earlierUsernameFailures);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    // A missing user costs a full password check too, so timing tells nothing.
    const user = await userStore.byUsername(deps.db, username);
    let valid: boolean;
    try {
      valid = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
    } catch (error) {
      if (!(error instanceof BusyError)) throw error;
      // The password was not checked: the attempt does not count.
      await deps.throttle.release(reserved.reservations);
      ctx.set('Retry-After', '1');
      return loginPage(ctx, interaction, client, {
        status: 503,
        username,
        error: 'Too many people are signing in right now. Please try again in a moment.',
      });
    }
    if (!user || !valid) {
      deps.metrics.signInFailures.inc();
      await auditSignIn(ctx, 'sign_in.failed', username, String(interaction.params.client_id), {
        reason: user ? 'wrong_password' : 'unknown_user',
      });
      return loginPage(ctx, interaction, client, { status: 401, username, error: 'Incorrect username or password.' });
    }
    // The right password: this attempt was no failure, and the failures of this username from
    // this address are forgotten.
    await deps.throttle.release(reserved.reservations.filter((r) => r.subject.kind !== 'user'));
    await deps.throttle.clear(subjects[0]!);
    return finish(ctx, { login: { accountId: user.id, amr: ['pwd'] } }, false);
  });

  router.post('/:uid/confirm', async (ctx) => {
    const interaction = await deps.providers.current.interactionDetails(ctx.req, ctx.res);
    const client = await clientOf(interaction);
    const form = await readForm(ctx);
    if (interaction.prompt.name !== 'consent') return ctx.redirect(deps.paths.interactionPage(interaction.uid));
    if (!form || !csrf.verify(interaction.uid, form.get('csrf'))) return consentPage(ctx, interaction, client);
    if (form.get('decision') !== 'allow') {
      return finish(ctx, { error: 'access_denied', error_description: 'the user denied the request' }, false);
    }
    const accountId = interaction.session!.accountId;
    const clientId = String(interaction.params.client_id);
    const grant =
      (interaction.grantId && (await deps.providers.current.Grant.find(interaction.grantId))) ||
      new deps.providers.current.Grant({ accountId, clientId });
    const details = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {}))
      grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await consentStore.remember(deps.db, accountId, clientId, {
      oidcScopes: details.missingOIDCScope ?? [],
      resourceScopes: details.missingResourceScopes ?? {},
    });
    return finish(ctx, { consent: { grantId } }, true);
  });

  return router;
}
