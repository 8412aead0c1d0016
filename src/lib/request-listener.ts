import type http from 'node:http';

/** What Koa's `app.callback()` returns, and oidc-provider's (a Koa app) too. */
type KoaApp = { callback(): (request: http.IncomingMessage, response: http.ServerResponse) => Promise<void> };

/**
 * A Koa app as a Node request listener. Koa answers every error inside its own handler
 * (ctx.onerror), so the promise that handler returns never rejects: nobody needs to wait for it.
 */
export function requestListener(app: KoaApp): http.RequestListener {
  const handle = app.callback();
  return (request, response) => void handle(request, response);
}
