import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What the storage tests share (test/db/storage.test.ts, data-dir-lock.test.ts, migrations.test.ts). */

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-storage-'));
}

/** Every object (at any depth, JSON text included) that has a member of this name. */
export function objectsWithMember(value: unknown, member: string, found: object[] = []): object[] {
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('{') || text.startsWith('[')) {
      try {
        objectsWithMember(JSON.parse(text), member, found);
      } catch {
        // Not JSON after all.
      }
    }
  } else if (Array.isArray(value)) {
    for (const item of value) objectsWithMember(item, member, found);
  } else if (value && typeof value === 'object' && !(value instanceof Date)) {
    if (Object.hasOwn(value, member)) found.push(value);
    for (const item of Object.values(value)) objectsWithMember(item, member, found);
  }
  return found;
}
