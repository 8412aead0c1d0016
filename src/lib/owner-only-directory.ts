import fs from 'node:fs';
import path from 'node:path';

/** Read, write and search permission of group and others. */
export const GROUP_AND_OTHER_BITS = 0o077;

export class DirectoryPermissionError extends Error {
  override name = 'DirectoryPermissionError';
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

/**
 * Makes sure `dir` exists and only its owner can enter it: created 0700 when missing; one that
 * group or others can access is refused, as PostgreSQL refuses such a data directory
 * (src/backend/utils/init/miscinit.c, checkDataDir) — loosening was someone's choice, and
 * silently undoing it would hide that the files were exposed meanwhile.
 */
export function ensureOwnerOnlyDirectory(dir: string, what = 'data directory'): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { mode } = fs.statSync(dir);
  if (mode & GROUP_AND_OTHER_BITS) {
    throw new DirectoryPermissionError(
      `${what} "${dir}" has invalid permissions (${octal(mode)}); should be u=rwx (0700): run chmod 700 "${dir}"`,
    );
  }
}

/**
 * Clears group and other permission bits on `root` and everything below it (symbolic links are
 * left alone: their mode means nothing). For trees written before Tollgate made them owner-only.
 */
export function tightenTree(root: string): void {
  const pending = [root];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const stat = fs.lstatSync(next);
    if (stat.isSymbolicLink()) continue;
    if (stat.mode & GROUP_AND_OTHER_BITS) fs.chmodSync(next, stat.mode & 0o700);
    if (stat.isDirectory()) for (const name of fs.readdirSync(next)) pending.push(path.join(next, name));
  }
}
