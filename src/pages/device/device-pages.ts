import type { ApiCatalog } from '../../apis/api-catalog.js';
import { isReservedScope } from '../../lib/scope-names.js';
import { html } from '../../web/html.js';
import { requestState } from '../../web/request-state.js';
import { errorMessage, sendPage } from '../../web/page.js';
import { scopeList } from '../interactions/scope-list.js';
import { describeApiScope, describeOidcScope } from '../interactions/scope-words.js';
import {
  DENIED_DEVICE_ERROR,
  REJECTED_USER_CODE_ERRORS,
  deviceFormParts as formParts,
  type ProviderPageContext,
} from '../../oidc-provider/internals.js';

/** The /device pages (RFC 8628 §3.3): enter the code, confirm the device, done. */
export function devicePages(assets: string, catalog: ApiCatalog) {
  return {
    userCodeInputSource(ctx: ProviderPageContext, form: string, _out?: unknown, error?: Error & { userCode?: string }) {
      if (error?.name === DENIED_DEVICE_ERROR) {
        sendPage(ctx, assets, {
          view: 'error',
          title: 'Request denied',
          values: {
            heading: 'Request denied',
            message: 'The device was not connected. You can close this window.',
            detail: html``,
          },
        });
        return;
      }
      const rejected = !!error && REJECTED_USER_CODE_ERRORS.has(error.name);
      // Counted by the code-entry throttle: wrong, expired or used codes are guesses.
      if (rejected && error.name !== 'NoCodeError') requestState(ctx).deviceCodeRejected = true;
      const message = !error
        ? undefined
        : error.name === 'NoCodeError'
          ? 'Enter the code shown on your device.'
          : error.name === 'ExpiredError'
            ? 'That code has expired. Start again on your device to get a new one.'
            : rejected
              ? 'That code is not valid. Check it and try again.'
              : 'Something went wrong. Start again on your device.';
      const prefill = requestState(ctx).prefillUserCode ?? error?.userCode ?? '';
      sendPage(ctx, assets, {
        view: 'device',
        title: 'Connect a device',
        status: rejected ? 400 : 200,
        values: { ...formParts(form), code: prefill, error: message ? errorMessage(message) : html`` },
      });
    },

    async userCodeConfirmSource(
      ctx: ProviderPageContext,
      form: string,
      client: { clientId: string; clientName?: string },
      _deviceInfo: unknown,
      userCode: string,
    ) {
      const code = ctx.oidc.entities.DeviceCode as unknown as
        { params?: { scope?: string; resource?: string | string[] } } | undefined;
      const scopes = (code?.params?.scope ?? '').split(' ').filter(Boolean);
      const snapshot = await catalog.snapshot();
      const lines = scopes.map((scope) =>
        isReservedScope(scope) ? describeOidcScope(scope) : describeApiScope(scope, snapshot.byScope.get(scope)),
      );
      sendPage(ctx, assets, {
        view: 'device-confirm',
        title: 'Connect a device',
        values: {
          ...formParts(form),
          client: client.clientName ?? client.clientId,
          code: userCode,
          scopes: scopeList(lines),
        },
      });
    },

    successSource(ctx: ProviderPageContext) {
      const client = ctx.oidc.client;
      sendPage(ctx, assets, {
        view: 'device-done',
        title: 'Device connected',
        values: { client: client?.clientName ?? client?.clientId ?? 'The device' },
      });
    },
  };
}
