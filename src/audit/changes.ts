type JsonView = Record<string, unknown>;

/** Fields every update changes by itself: naming them would say nothing. */
const BOOKKEEPING = new Set(['updated_at']);

/**
 * What an update changed, field by field, from the JSON views the admin API answers with before
 * and after it (`{ name: { from, to } }`). Those views never hold a secret or a hash, so neither
 * does this.
 */
export function changedFields(before: JsonView, after: JsonView): Record<string, { from: unknown; to: unknown }> {
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (BOOKKEEPING.has(field)) continue;
    if (JSON.stringify(before[field]) === JSON.stringify(after[field])) continue;
    changed[field] = { from: before[field] ?? null, to: after[field] ?? null };
  }
  return changed;
}
