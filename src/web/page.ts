import type { Context } from 'koa';
import { isLoopbackHost } from '../lib/loopback-host.js';
import { html, type SafeHtml } from './html.js';
import { renderPage } from './views.js';

/**
 * Origins (or private-use schemes) a form on the page may end up at after redirects. A native
 * app's loopback redirect URI is matched on any port at run time (RFC 8252 §7.3), so its source
 * allows any port too.
 */
export function formTargets(redirectUris: readonly string[]): string[] {
  const targets = new Set<string>();
  for (const uri of redirectUris) {
    const url = URL.parse(uri);
    if (!url) continue;
    if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) targets.add(`http://${url.hostname}:*`);
    else targets.add(url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol);
  }
  return [...targets];
}

/**
 * Pages run no script and load only our stylesheet. form-action must also allow where the
 * form's redirects end (the client's redirect URI): browsers apply it to the whole redirect chain.
 */
function pageCsp(targets: string[]): string {
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' data:",
    `form-action 'self' ${targets.join(' ')}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export interface Page {
  view: string;
  title: string;
  values: Record<string, string | SafeHtml>;
  status?: number;
  redirectUris?: readonly string[];
}

export function sendPage(ctx: Context, assets: string, page: Page): void {
  ctx.status = page.status ?? 200;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', pageCsp(formTargets(page.redirectUris ?? [])));
  ctx.body = renderPage(page.view, page.title, assets, page.values);
}

export function errorMessage(text: string): SafeHtml {
  return html` <p class="error" role="alert">${text}</p>`;
}
