import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type Koa from 'koa';
import type { Context } from 'koa';
import Provider, { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { TollgateError } from '../lib/errors.js';

/**
 * The seam to oidc-provider: every place Tollgate relies on its internals or on behaviour it does
 * not document — prototype and static patches, the shape of its request context, the HTML of its
 * device form, how it takes over a body read by someone else, its console notices, the copy of its
 * client-authentication rules, and what patches/ changes in it. Nothing else in src/ reaches into
 * oidc-provider; its documented configuration and models (Provider, Grant, interactionDetails, the
 * errors) are used where they are needed.
 *
 * Each reliance has a name and a start-up check (checkProviderInternals, run when a Provider is
 * built): if an upgrade changed what Tollgate relies on, the process refuses to start with a
 * ProviderRelianceError naming the reliance, rather than misbehave later. docs/UPGRADING-oidc-provider.md
 * lists them: why, where, how each is checked, and what to do on an upgrade.
 */

export type Reliance =
  | 'exact-routes'
  | 'oidc-context-property'
  | 'resume-error-recovery'
  | 'request-body'
  | 'library-notices'
  | 'request-href'
  | 'secure-cookies'
  | 'page-hook-context'
  | 'oidc-context'
  | 'request-context'
  | 'client-secret-comparison'
  | 'client-find'
  | 'grant-find'
  | 'session-lookup'
  | 'device-form'
  | 'device-errors'
  | 'resume-routes'
  | 'consent-prompt-check'
  | 'server-error-event'
  | 'error-events'
  | 'refresh-token-reuse'
  | 'client-authentication'
  | 'replay-detection';

export class ProviderRelianceError extends Error {
  constructor(
    readonly reliance: Reliance,
    detail: string,
  ) {
    super(
      `oidc-provider no longer looks as Tollgate relies on (${reliance}): ${detail}; see docs/UPGRADING-oidc-provider.md, "${reliance}"`,
    );
    this.name = 'ProviderRelianceError';
  }
}

function ensure(reliance: Reliance, holds: boolean, detail: string): void {
  if (!holds) throw new ProviderRelianceError(reliance, detail);
}

const library = createRequire(import.meta.url);

/** The text of one of oidc-provider's own files, for checks that its code still does what we rely on. */
function librarySource(reliance: Reliance, file: string): string {
  try {
    return fs.readFileSync(library.resolve(`oidc-provider/${file}`), 'utf8');
  } catch {
    throw new ProviderRelianceError(reliance, `${file} is gone`);
  }
}

function ensureSourceHas(reliance: Reliance, file: string, ...needles: string[]): void {
  const source = librarySource(reliance, file);
  for (const needle of needles)
    ensure(reliance, source.includes(needle), `${file} no longer contains ${JSON.stringify(needle)}`);
}

// ─── The request body ────────────────────────────────────────────────────────────────────────

/** A form's fields as querystring.parse gives them: a repeated name holds an array. */
export type FormFields = Record<string, string | string[]>;

/** oidc-provider's own limit for form bodies (lib/shared/selective_body.js, LIMIT). */
export const MAX_FORM_BYTES = 56 * 1024;

/**
 * Hands a form body read and parsed by Tollgate to oidc-provider. Once the stream is consumed,
 * oidc-provider takes req.body instead (selective_body.js, "already parsed request body"); parsed
 * as querystring.parse would, duplicated parameters stay arrays, so its duplicate check still works.
 */
export function handFormToProvider(req: IncomingMessage, fields: FormFields): void {
  (req as { body?: FormFields }).body = fields;
}

/** The form handed to oidc-provider for this request, if one was. */
export function formHandedToProvider(req: IncomingMessage): FormFields | undefined {
  const handed = (req as { body?: unknown }).body;
  return handed && typeof handed === 'object' ? (handed as FormFields) : undefined;
}

// ─── Its console notices ─────────────────────────────────────────────────────────────────────

/** The text of the notice oidc-provider prints for every body handed over (see handFormToProvider). */
const BODY_HANDED_OVER_NOTICE = 'already parsed request body';

interface NoticeLogger {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** oidc-provider prints its notices with console.info/warn; keep every line of output JSON. */
export function routeProviderNotices(logger: NoticeLogger): void {
  // This is the one place that takes over the console, to route oidc-provider's lines into pino.
  /* eslint-disable no-console */
  for (const method of ['info', 'warn'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const [first] = args;
      if (typeof first === 'string' && first.includes('oidc-provider ')) {
        // Tollgate reads some form bodies before oidc-provider on purpose (src/web/form-peek.ts).
        const expected = method === 'info' || first.includes(BODY_HANDED_OVER_NOTICE);
        // Its notices are coloured with ANSI escapes (ESC [ … m); the log line keeps only the text.
        // eslint-disable-next-line no-control-regex
        logger[expected ? 'debug' : 'warn']({ source: 'oidc-provider' }, first.replace(/\x1b\[[0-9;]*m/g, ''));
      } else {
        original(...args);
      }
    };
  }
  /* eslint-enable no-console */
}

// ─── URLs it builds ──────────────────────────────────────────────────────────────────────────

/**
 * oidc-provider builds every URL from the request's origin (OIDCContext#urlFor resolves against
 * ctx.href); Tollgate answers as ISSUER, whatever Host a request came in on (a load balancer's
 * name, an IP, a spoofed header). Set on the app's request prototype once, not on every request
 * object (which would slow them all).
 */
export function answerAsIssuer(app: Koa, issuer: string): void {
  const { origin } = new URL(issuer);
  Object.defineProperty(app.request, 'href', {
    get(this: { originalUrl: string }) {
      return origin + this.originalUrl;
    },
    configurable: true,
  });
}

// ─── Its request context ─────────────────────────────────────────────────────────────────────

/** What Tollgate reads of ctx.oidc: the route's name and the request's parameters. */
export type ProviderRequest = KoaContextWithOIDC['oidc'];

/**
 * oidc-provider's request context (ctx.oidc) of a request it has routed, for middleware around
 * it; undefined before oidc-provider has seen the request or for a path it does not route.
 */
export function providerRequestOf(ctx: Context): ProviderRequest | undefined {
  return (ctx as unknown as { oidc?: ProviderRequest }).oidc;
}

/**
 * The context oidc-provider hands its page hooks (renderError, logoutSource, the device pages):
 * mounted with koa-mount, it runs on the public app's own Koa context, `oidc` added — so a page
 * hook may use the request state and everything a Koa page helper does.
 */
export type ProviderPageContext = Context & { oidc: ProviderRequest };

/** Converts oidc-provider's context for Tollgate's page hooks, once, here. */
export function asKoaContext(ctx: KoaContextWithOIDC): ProviderPageContext {
  return ctx as unknown as ProviderPageContext;
}

type Awaitable<T> = T | Promise<T>;

/** The pages oidc-provider renders through its configuration hooks, written against a Koa context. */
export interface ProviderPageHooks {
  renderError(
    ctx: ProviderPageContext,
    out: { error: string; error_description?: string },
    error?: unknown,
  ): Awaitable<void>;
  logoutSource(ctx: ProviderPageContext, form: string): Awaitable<void>;
  postLogoutSuccessSource(ctx: ProviderPageContext): Awaitable<void>;
  userCodeInputSource(
    ctx: ProviderPageContext,
    form: string,
    out?: unknown,
    error?: Error & { userCode?: string },
  ): Awaitable<void>;
  userCodeConfirmSource(
    ctx: ProviderPageContext,
    form: string,
    client: { clientId: string; clientName?: string },
    deviceInfo: unknown,
    userCode: string,
  ): Awaitable<void>;
  successSource(ctx: ProviderPageContext): Awaitable<void>;
}

type OnProviderContext<H> = H extends (ctx: ProviderPageContext, ...args: infer A) => infer R
  ? (ctx: KoaContextWithOIDC, ...args: A) => R
  : never;

/** The page hooks as oidc-provider's configuration takes them: its context converted here, once. */
export function providerPageHooks(hooks: ProviderPageHooks): {
  [K in keyof ProviderPageHooks]: OnProviderContext<ProviderPageHooks[K]>;
} {
  return hooks as unknown as { [K in keyof ProviderPageHooks]: OnProviderContext<ProviderPageHooks[K]> };
}

/**
 * The request oidc-provider is serving now (its AsyncLocalStorage, Provider.ctx): the same object
 * as the public app's Koa context, so middleware around it can find what was kept under it.
 */
export function currentRequest(): object | undefined {
  return Provider.ctx;
}

// ─── Patches of its models ───────────────────────────────────────────────────────────────────

type Find = (id: unknown, options?: unknown) => Promise<unknown>;

/** Replaces how a client's presented secret is compared with the `client_secret` in its metadata. */
export function replaceClientSecretComparison(
  provider: Provider,
  compare: (presented: unknown, stored: string | undefined) => boolean,
): void {
  const prototype = provider.Client.prototype as unknown as { compareClientSecret?: unknown };
  ensure(
    'client-secret-comparison',
    typeof prototype.compareClientSecret === 'function',
    'Client#compareClientSecret is gone',
  );
  prototype.compareClientSecret = function compareHashedSecret(this: { clientSecret?: string }, presented: unknown) {
    return compare(presented, this.clientSecret);
  };
}

function wrapStaticFind(provider: Provider, model: 'Client' | 'Grant', wrap: (find: Find) => Find): void {
  const target = provider[model] as unknown as { find?: Find };
  ensure(model === 'Client' ? 'client-find' : 'grant-find', typeof target.find === 'function', `${model}.find is gone`);
  target.find = wrap(target.find!.bind(target));
}

/** Puts `wrap` around Client.find, through which oidc-provider looks up every client. */
export function wrapClientFind(
  provider: Provider,
  wrap: (find: (id: unknown) => Promise<unknown>) => (id: unknown) => Promise<unknown>,
): void {
  wrapStaticFind(provider, 'Client', wrap as (find: Find) => Find);
}

/** Puts `wrap` around Grant.find, through which oidc-provider loads every grant. */
export function wrapGrantFind<G>(
  provider: Provider,
  wrap: (find: (id: unknown, options?: unknown) => Promise<G | undefined>) => Find,
): void {
  wrapStaticFind(provider, 'Grant', wrap as (find: Find) => Find);
}

/** The browser session a request carries (its cookie), from outside oidc-provider's routes. */
export function sessionOf(provider: Provider, ctx: Context): Promise<{ exp?: unknown }> {
  return (provider as unknown as { Session: { get(ctx: Context): Promise<{ exp?: unknown }> } }).Session.get(ctx);
}

/** Reports each failure oidc-provider answers itself (a 500, or a redirect carrying server_error). */
export function onServerError(provider: Provider, report: (ctx: object, error: unknown) => void): void {
  provider.on('server_error', (ctx: object, error: unknown) => report(ctx, error));
}

/**
 * Reports every error answer oidc-provider gives: it emits one event per route (`grant.error`,
 * `introspection.error`, `authorization.error`, …, and `server_error` for its 500s), and the
 * list grows with its features, so the events are seen at emit() rather than by name.
 */
export function onEveryErrorEvent(provider: Provider, report: (error: unknown) => void): void {
  const emit = provider.emit;
  // Several events a token: passed on as they came (apply with `arguments`), no array made per call.
  provider.emit = function emitSeeingErrors(event: string | symbol, _ctx?: unknown, error?: unknown) {
    if (typeof event === 'string' && (event === 'server_error' || event.endsWith('.error'))) report(error);
    // eslint-disable-next-line prefer-rest-params
    return emit.apply(provider, arguments as unknown as Parameters<Provider['emit']>);
  };
}

/** What oidc-provider (and Tollgate's adapter, in its words) says when a used refresh token comes back. */
const REFRESH_TOKEN_REUSED = 'refresh token already used';

/**
 * Reports each refresh token presented again after use, which revokes its grant. oidc-provider
 * tells it by no event of its own, only by the detail (never sent) of the invalid_grant it answers.
 */
export function onRefreshTokenReuse(
  provider: Provider,
  report: (ctx: object, token: PresentedRefreshToken) => void,
): void {
  provider.on('grant.error', (ctx: object, error: { error?: unknown; error_detail?: unknown }) => {
    if (error?.error === 'invalid_grant' && error.error_detail === REFRESH_TOKEN_REUSED)
      report(ctx, presentedRefreshToken(ctx));
  });
}

/** Whose refresh token a token request presented: never the token, only what it was issued for. */
export interface PresentedRefreshToken {
  clientId?: string;
  accountId?: string;
  /** The grant (the token's family), revoked when the token is reused. */
  grantId?: string;
}

/**
 * The refresh token a token request presented, as oidc-provider loaded it
 * (lib/actions/grants/refresh_token.js keeps it as the request's RefreshToken entity before it
 * checks `consumed`); empty when the request did not get that far.
 */
export function presentedRefreshToken(ctx: object): PresentedRefreshToken {
  const token = (ctx as { oidc?: { entities?: { RefreshToken?: Record<string, unknown> } } }).oidc?.entities
    ?.RefreshToken;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { clientId: text(token?.clientId), accountId: text(token?.accountId), grantId: text(token?.grantId) };
}

// ─── The device pages ────────────────────────────────────────────────────────────────────────

/** oidc-provider hands its device pages a ready-made <form>; Tollgate keeps only its action and token. */
export function deviceFormParts(form: string): { action: string; xsrf: string } {
  const action = /action="([^"]*)"/.exec(form)?.[1];
  const xsrf = /name="xsrf" value="([^"]*)"/.exec(form)?.[1];
  if (!action || !xsrf) throw new Error('unexpected device form from oidc-provider');
  return { action: action.replace(/&amp;/g, '&'), xsrf };
}

/** The errors oidc-provider re-renders the code page with because the code entered was refused. */
export const REJECTED_USER_CODE_ERRORS: ReadonlySet<string> = new Set([
  'NotFoundError',
  'ExpiredError',
  'AlreadyUsedError',
  'NoCodeError',
]);
/** The error it renders the code page with when the person denied the device. */
export const DENIED_DEVICE_ERROR = 'AbortedError';
/** Every error name the device pages tell apart (src/pages/device/device-pages.ts). */
const DEVICE_ERRORS = [...REJECTED_USER_CODE_ERRORS, DENIED_DEVICE_ERROR];

// ─── The interaction policy ──────────────────────────────────────────────────────────────────

type Check = InstanceType<typeof interactionPolicy.Check>;

/** oidc-provider's default policy with one check of one prompt replaced (found by its reason). */
export function basePolicyReplacing(
  prompt: string,
  reason: string,
  replacement: (Check: typeof interactionPolicy.Check) => Check,
) {
  const { Check, base } = interactionPolicy;
  const policy = base();
  const found = policy.get(prompt);
  ensure('consent-prompt-check', !!found, `the base interaction policy has no ${prompt} prompt`);
  const index = found!.checks.findIndex((check) => check.reason === reason);
  ensure('consent-prompt-check', index !== -1, `the ${prompt} prompt has no ${reason} check to replace`);
  found!.checks[index] = replacement(Check);
  return policy;
}

// ─── A copy of its client authentication ─────────────────────────────────────────────────────

/**
 * The client authentication methods Tollgate offers, given to oidc-provider's `clientAuthMethods`
 * and followed by the copy below. Secrets are stored hashed, so nothing that needs the secret
 * itself as a key is offered (client_secret_jwt); `private_key_jwt` (RFC 7523) verifies an
 * assertion with the client's registered public keys; the two RFC 8705 methods present nothing
 * but the client_id in the request (the certificate is the TLS connection's or the proxy's).
 */
export const CLIENT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
  'none',
] as const;

/** RFC 7523 §2.2: the client_assertion_type of a JWT assertion. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export class ClientAuthenticationError extends TollgateError {
  constructor(status: 400 | 401, code: 'invalid_request' | 'invalid_client', message: string) {
    super(status, code, message);
  }
}

/** oidc-provider's messages (lib/shared/client_auth.js), repeated by the copy. */
const ONE_MECHANISM = 'client authentication must only be provided using one mechanism';
const NO_MECHANISM = 'no client authentication mechanism provided';
const CLIENT_ID_MISMATCH = 'client_id mismatch';
const ASSERTION_FORMAT = 'invalid client_assertion format';
/** And lib/shared/jwt_client_auth.js's, for an assertion presented twice. */
export const ASSERTION_REPLAYED = 'client assertion tokens must only be used once';

/** The `sub` of an assertion, read without verifying it (as oidc-provider finds the client by it). */
function assertionSubject(assertion: string): string | undefined {
  const [, payload] = assertion.split('.');
  try {
    const sub = (JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    throw new ClientAuthenticationError(400, 'invalid_request', ASSERTION_FORMAT);
  }
}

const BASIC = /^Basic ([A-Za-z0-9+/=]+)$/i;

/** RFC 6749 §2.3.1: both parts are form-urlencoded inside the Basic credentials. */
function formDecoded(part: string): string {
  return part.includes('%') || part.includes('+') ? decodeURIComponent(part.replace(/\+/g, ' ')) : part;
}

/** The Basic credentials' `id:secret`, decoded from base64, with the colon's place; undefined if not Basic. */
function basicPair(header: string | undefined): { decoded: string; colon: number } | undefined {
  const match = BASIC.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : { decoded, colon };
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const pair = basicPair(header);
  if (!pair) return undefined;
  try {
    return {
      id: formDecoded(pair.decoded.slice(0, pair.colon)),
      secret: formDecoded(pair.decoded.slice(pair.colon + 1)),
    };
  } catch {
    return undefined;
  }
}

/**
 * The client id an Authorization: Basic header names, decoded as presentedClientCredentials
 * decodes it, and nothing else (the secret is not looked at); undefined if it does not parse.
 * For a check that needs to know which client is named before it needs its credentials.
 */
export function basicClientId(authorization: string): string | undefined {
  const pair = basicPair(authorization);
  if (!pair) return undefined;
  try {
    return formDecoded(pair.decoded.slice(0, pair.colon));
  } catch {
    return undefined;
  }
}

/** What a request presents to authenticate its client: a secret, an assertion, or (public) neither. */
export interface PresentedCredentials {
  id: string;
  secret: string | null;
  /** A private_key_jwt assertion (RFC 7523), not yet verified. */
  assertion: string | null;
}

/**
 * The credentials a request presents, by oidc-provider's rules for CLIENT_AUTH_METHODS: one
 * method per request (Basic; client_id with or without client_secret in the body; or a
 * client_assertion of type jwt-bearer, its client named by client_id or else by its `sub`). For
 * what Tollgate checks itself (introspection of JWT access tokens, a client's own rate limit):
 * the caller checks them against the registered kind of client.
 */
export function presentedClientCredentials(authorization: string, params: URLSearchParams): PresentedCredentials {
  const basic = basicCredentials(authorization || undefined);
  if (authorization && !basic)
    throw new ClientAuthenticationError(400, 'invalid_request', 'invalid Authorization header');
  const assertion = params.get('client_assertion');
  if ([basic, assertion, params.get('client_secret')].filter(Boolean).length > 1)
    throw new ClientAuthenticationError(400, 'invalid_request', ONE_MECHANISM);
  if (basic && params.has('client_id') && params.get('client_id') !== basic.id) {
    throw new ClientAuthenticationError(400, 'invalid_request', ONE_MECHANISM);
  }
  if (assertion) {
    if (params.get('client_assertion_type') !== JWT_BEARER_ASSERTION)
      throw new ClientAuthenticationError(
        400,
        'invalid_request',
        `client_assertion_type must have value ${JWT_BEARER_ASSERTION}`,
      );
    const sub = assertionSubject(assertion);
    const named = params.get('client_id');
    if (named && sub && named !== sub) throw new ClientAuthenticationError(400, 'invalid_request', CLIENT_ID_MISMATCH);
    const id = named || sub;
    if (!id) throw new ClientAuthenticationError(401, 'invalid_client', 'client authentication failed');
    return { id, secret: null, assertion };
  }
  const id = basic?.id ?? params.get('client_id');
  if (!id) throw new ClientAuthenticationError(400, 'invalid_request', NO_MECHANISM);
  return { id, secret: basic?.secret ?? params.get('client_secret'), assertion: null };
}

/**
 * Whether an assertion's (iss, jti) is seen for the first time, remembered until `exp`: the very
 * check oidc-provider makes after verifying an assertion (jwt_client_auth.js), through the same
 * store, so an assertion used at Tollgate's own endpoints cannot be used again at oidc-provider's,
 * or the reverse.
 */
export async function assertionIsNew(provider: Provider, iss: string, jti: string, exp: number): Promise<boolean> {
  const detection = (provider as unknown as { ReplayDetection: { unique(...args: unknown[]): Promise<boolean> } })
    .ReplayDetection;
  try {
    return await detection.unique(iss, jti, exp);
  } catch (error) {
    // Tollgate's adapter refuses the second of two presentations side by side this way (adapter.ts).
    if ((error as { error?: unknown }).error === 'invalid_client') return false;
    throw error;
  }
}

// ─── The start-up checks ─────────────────────────────────────────────────────────────────────

/** Checks of oidc-provider's code, the same for every Provider: run once per process. */
let libraryChecked = false;

function checkLibrary(): void {
  if (libraryChecked) return;
  ensureSourceHas(
    'exact-routes',
    'lib/helpers/router.js',
    'Tollgate: routes match exactly as spelled',
    'Tollgate: no second lookup',
  );
  ensureSourceHas(
    'oidc-context-property',
    'lib/helpers/initialize_app.js',
    "Object.defineProperty(ctx, 'oidc', { value: new this.OIDCContext(ctx) })",
  );
  ensureSourceHas(
    'resume-error-recovery',
    'lib/actions/authorization/response_parameters.js',
    'Tollgate: nothing to recover before the parameters are assembled',
  );
  ensureSourceHas(
    'request-body',
    'lib/shared/selective_body.js',
    'ctx.req.body',
    `const LIMIT = ${MAX_FORM_BYTES / 1024} * 1024;`,
  );
  ensureSourceHas('library-notices', 'lib/helpers/attention.js', 'oidc-provider NOTICE: ', 'oidc-provider WARNING: ');
  ensureSourceHas('library-notices', 'lib/shared/selective_body.js', BODY_HANDED_OVER_NOTICE);
  ensureSourceHas('request-href', 'lib/helpers/oidc_context.js', 'this.ctx.href');
  // src/http/security-headers.ts, secureCookiesForHttpsIssuer: its cookies follow the mounted context's `secure`.
  ensureSourceHas('secure-cookies', 'lib/helpers/oidc_context.js', 'this.ctx.secure');
  ensureSourceHas(
    'resume-routes',
    'lib/helpers/initialize_app.js',
    '`${routes.authorization}/:uid`',
    '`${routes.code_verification}/:uid`',
  );
  ensureSourceHas('server-error-event', 'lib/shared/error_handler.js', "provider.emit('server_error', ctx, err)");
  ensureSourceHas(
    'server-error-event',
    'lib/shared/authorization_error_handler.js',
    "provider.emit('server_error', ctx, err)",
  );
  // src/oidc/provider-metrics.ts counts error answers and refresh-token reuse from these events.
  ensureSourceHas('error-events', 'lib/shared/error_handler.js', 'provider.emit(eventName, ctx, err)');
  ensureSourceHas('error-events', 'lib/helpers/initialize_app.js', "error('grant.error')");
  ensureSourceHas(
    'refresh-token-reuse',
    'lib/actions/grants/refresh_token.js',
    `InvalidGrant('${REFRESH_TOKEN_REUSED}')`,
    "ctx.oidc.entity('RefreshToken', refreshToken)",
  );
  ensureSourceHas('oidc-context', 'lib/shared/assemble_params.js', 'ctx.oidc.params =');
  ensureSourceHas(
    'client-authentication',
    'lib/shared/client_auth.js',
    ONE_MECHANISM,
    NO_MECHANISM,
    CLIENT_ID_MISMATCH,
    ASSERTION_FORMAT,
    'client_secret_basic',
    'client_secret_post',
    'private_key_jwt',
    'const assertionType = ' + JSON.stringify(JWT_BEARER_ASSERTION).replace(/"/g, "'"),
    // Neither secret nor assertion: the certificate methods (the copy's rule for them).
    "methods = ['none', 'tls_client_auth', 'self_signed_tls_client_auth'];",
  );
  // src/oidc/adapter.ts makes the replay check atomic: the (iss, jti) row is inserted only if absent.
  ensureSourceHas(
    'replay-detection',
    'lib/shared/jwt_client_auth.js',
    'ctx.oidc.provider.ReplayDetection.unique(',
    ASSERTION_REPLAYED,
  );
  ensureSourceHas('replay-detection', 'lib/models/replay_detection.js', 'await inst.save(');
  ensureSourceHas('request-context', 'lib/provider.js', 'static get ctx()');

  const errors = library('oidc-provider/lib/helpers/re_render_errors.js') as Record<string, unknown>;
  for (const name of DEVICE_ERRORS)
    ensure('device-errors', typeof errors[name] === 'function', `lib/helpers/re_render_errors.js has no ${name}`);

  const forms = library('oidc-provider/lib/helpers/user_code_form.js') as Record<
    string,
    (...args: unknown[]) => string
  >;
  ensure(
    'device-form',
    typeof forms.input === 'function' && typeof forms.confirm === 'function',
    'lib/helpers/user_code_form.js has no input/confirm',
  );
  for (const form of [
    forms.input!('/verify?a=1&b=2', 'token', undefined, 'base-20'),
    forms.confirm!('/verify?a=1&b=2', 'token', 'BCDF-GHJK'),
  ]) {
    let parts;
    try {
      parts = deviceFormParts(form);
    } catch {
      parts = undefined;
    }
    ensure(
      'device-form',
      parts?.action === '/verify?a=1&b=2' && parts.xsrf === 'token',
      'its device form no longer has the action and xsrf Tollgate reads',
    );
  }
  libraryChecked = true;
}

/**
 * Every reliance on oidc-provider's internals, checked against a Provider as it is built: throws
 * a ProviderRelianceError naming the first that no longer holds.
 */
export function checkProviderInternals(provider: Provider): void {
  checkLibrary();
  // koa-mount runs a Koa application's middleware on the mounting app's own context.
  ensure(
    'page-hook-context',
    Array.isArray((provider as unknown as { middleware?: unknown }).middleware),
    'the Provider is not a Koa application',
  );
  ensure(
    'request-context',
    typeof Object.getOwnPropertyDescriptor(Provider, 'ctx')?.get === 'function',
    'Provider.ctx is gone',
  );
  const { Client, Grant, OIDCContext } = provider as unknown as {
    Client: { prototype: object; find?: unknown };
    Grant: { find?: unknown };
    OIDCContext: new (ctx: object) => object;
  };
  ensure(
    'client-secret-comparison',
    typeof (Client.prototype as { compareClientSecret?: unknown }).compareClientSecret === 'function',
    'Client#compareClientSecret is gone',
  );
  ensure('client-find', typeof Client.find === 'function', 'Client.find is gone');
  ensure(
    'replay-detection',
    typeof (provider as unknown as { ReplayDetection?: { unique?: unknown } }).ReplayDetection?.unique === 'function',
    'ReplayDetection.unique is gone',
  );
  ensure('grant-find', typeof Grant.find === 'function', 'Grant.find is gone');
  ensure(
    'session-lookup',
    typeof (provider as unknown as { Session: { get?: unknown } }).Session.get === 'function',
    'Session.get is gone',
  );

  const oidc = new OIDCContext({ _matchedRouteName: 'token' }) as Record<string, unknown>;
  ensure('oidc-context', oidc.route === 'token', 'ctx.oidc.route no longer names the route');
  for (const property of ['entities', 'resourceServers'])
    ensure('oidc-context', typeof oidc[property] === 'object', `ctx.oidc.${property} is gone`);
  const prototype = Object.getPrototypeOf(oidc) as object;
  for (const property of ['client', 'prompts', 'requestParamScopes', 'requestParamOIDCScopes', 'promptPending']) {
    ensure('oidc-context', property in prototype, `ctx.oidc.${property} is gone`);
  }
}
