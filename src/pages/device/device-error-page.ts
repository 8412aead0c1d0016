import type { Context } from 'koa';
import { html } from '../../web/html.js';
import { sendPage } from '../../web/page.js';

/** An error page of the device flow, with a way back to the code form. */
export function sendDeviceErrorPage(
  ctx: Context,
  page: {
    assets: string;
    /** The code form (`/device` under the issuer's path). */
    codePage: string;
    status: number;
    title: string;
    heading: string;
    message: string;
  },
): void {
  sendPage(ctx, page.assets, {
    view: 'error',
    title: page.title,
    status: page.status,
    values: {
      heading: page.heading,
      message: page.message,
      detail: html` <p><a href="${page.codePage}">Enter a code</a></p>`,
    },
  });
}
