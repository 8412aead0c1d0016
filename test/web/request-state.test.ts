import { describe, expect, it } from 'vitest';
import { sourceFilesOfSrc } from '../helpers/source-files.js';

/** `ctx.state` or `ctx['state']`, read or written. */
const STATE = /\bctx\s*(?:\??\.\s*state\b|\[\s*['"`]state['"`]\s*\])/;

describe('the request state', () => {
  it('is read and written only through src/web/request-state.ts, where every key has one name and type', () => {
    const users = sourceFilesOfSrc()
      .filter(({ file, text }) => file !== 'web/request-state.ts' && STATE.test(text))
      .map(({ file }) => file);
    expect(users).toEqual([]);
  });

  it('the check sees each way of reaching ctx.state', () => {
    for (const code of ['ctx.state.x = 1', '(ctx.state as { x?: 1 }).x', "ctx['state']", 'ctx?.state'])
      expect(code).toMatch(STATE);
    expect('key.state === ctx.status').not.toMatch(STATE);
  });
});
