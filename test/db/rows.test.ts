import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { camelRow, changedColumns } from '../../src/db/rows.js';

describe('row mapping', () => {
  it('reads columns under their camelCase names, values untouched', () => {
    const created = new Date('2026-01-02T03:04:05Z');
    expect(
      camelRow({ id: 'c1', post_logout_redirect_uris: ['https://a.example/'], created_at: created, secret_hash: null }),
    ).toEqual({ id: 'c1', postLogoutRedirectUris: ['https://a.example/'], createdAt: created, secretHash: null });
  });

  it('writes only the changes given, under their column names: the two are inverses', () => {
    const field = fc.stringMatching(/^[a-z]{1,6}([A-Z][a-z]{1,6}){0,3}$/);
    fc.assert(
      fc.property(fc.dictionary(field, fc.oneof(fc.string(), fc.integer(), fc.constant(undefined))), (changes) => {
        const columns = changedColumns(changes);
        expect(Object.values(columns)).not.toContain(undefined);
        expect(Object.keys(columns).every((column) => /^[a-z_]+$/.test(column))).toBe(true);
        const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
        expect(camelRow(columns)).toEqual(defined);
      }),
    );
  });
});
