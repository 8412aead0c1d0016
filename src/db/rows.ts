/** `post_logout_redirect_uris` → `postLogoutRedirectUris`, at the type level. */
type CamelKey<K extends string> = K extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelKey<Tail>>}` : K;

/** A row's columns under their camelCase names, each with its column's type. */
export type CamelRow<Row> = { [K in keyof Row & string as CamelKey<K>]: Row[K] };

const camelKey = (column: string) => column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
const snakeKey = (field: string) => field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * A row as the object the domain uses: every column under its camelCase name, values as read (both
 * drivers, pg and PGlite, read timestamptz as Date). Stores declare the row's columns; the compiler
 * checks the result against the domain type, so a field the domain needs that the row does not
 * declare (or declares with another type) fails to compile.
 */
export function camelRow<Row extends object>(row: Row): CamelRow<Row> {
  return Object.fromEntries(Object.entries(row).map(([column, value]) => [camelKey(column), value])) as CamelRow<Row>;
}

/** The columns to update for the given changes: each field that is not undefined, snake_cased. */
export function changedColumns(changes: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(changes)
      .filter(([, value]) => value !== undefined)
      .map(([field, value]) => [snakeKey(field), value]),
  );
}
