/**
 * How many rows a DELETE or UPDATE touched. pg's knex dialect answers a number, PGlite's
 * returns the driver result ({ rowCount, affectedRows }); raw queries return that result on both.
 */
export function affectedRows(result: unknown): number {
  if (typeof result === 'number') return result;
  if (typeof result === 'string') return Number(result);
  if (result && typeof result === 'object') {
    const { rowCount, affectedRows: affected } = result as { rowCount?: unknown; affectedRows?: unknown };
    return Number(rowCount ?? affected ?? 0);
  }
  return 0;
}
