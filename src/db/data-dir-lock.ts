import fs from 'node:fs';
import path from 'node:path';
import { ensureOwnerOnlyDirectory } from '../lib/owner-only-directory.js';

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds: its own pid in a lock file is not proof the lock is stale. */
const held = new Set<string>();

/**
 * PGlite is one database in one process: a second process opening the same files would corrupt
 * them. The lock is a pid file created exclusively; a file left by a process that no longer runs
 * is taken over. The directory must be its owner's alone (see ensureOwnerOnlyDirectory).
 */
export function lockDataDir(dataDir: string): () => void {
  ensureOwnerOnlyDirectory(dataDir);
  const lockFile = path.join(dataDir, 'tollgate.lock');
  if (held.has(lockFile)) {
    throw new DataDirLockedError(
      `${dataDir} is already open in this process: the embedded database serves one connection at a time`,
    );
  }
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      held.add(lockFile);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held.delete(lockFile);
        fs.rmSync(lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(fs.readFileSync(lockFile, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isRunning(holder)) {
        throw new DataDirLockedError(
          `${dataDir} is in use by another Tollgate process (pid ${holder}). The embedded database serves one process at a time: stop that process, use another DATA_DIR, or set DATABASE_URL to share a PostgreSQL between instances.`,
        );
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new DataDirLockedError(`could not lock ${dataDir}`);
}
