import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUP_AND_OTHER_BITS, tightenTree } from '../lib/owner-only-directory.js';

/** The child-process entry beside this module: .js when built, .ts under the test runner. */
const INITDB_ENTRY = fileURLToPath(
  new URL(`./pglite-initdb${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/**
 * Makes sure `pgdata` holds an embedded PostgreSQL cluster; the caller holds the DATA_DIR lock.
 * On a new DATA_DIR, initdb runs in a short-lived child process — in this one, its WebAssembly
 * heap would stay: a first start idled at ~235 MiB instead of ~175 (bench/results/analysis.md) —
 * and into a scratch directory renamed into place only once complete, so an interrupted first
 * start leaves nothing half-made.
 */
export async function createEmbeddedCluster(pgdata: string): Promise<void> {
  if (fs.existsSync(path.join(pgdata, 'PG_VERSION'))) {
    // Clusters made before PGlite was confined to owner-only modes (owner-only-nodefs.ts) hold
    // files at 0666; such a cluster's own folder was 0755, so one look tells whether to walk it.
    if (fs.statSync(pgdata).mode & GROUP_AND_OTHER_BITS) tightenTree(pgdata);
    return;
  }
  if (fs.existsSync(pgdata) && fs.readdirSync(pgdata).length > 0) {
    throw new Error(
      `${pgdata} is not empty but holds no database (no PG_VERSION): move it away, or point DATA_DIR elsewhere`,
    );
  }
  // The caller holds the DATA_DIR lock: a scratch directory found now was left by a start that
  // was interrupted.
  const parent = path.dirname(pgdata);
  const scratchPrefix = `${path.basename(pgdata)}.initdb-`;
  for (const name of fs.readdirSync(parent)) {
    if (name.startsWith(scratchPrefix)) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  }
  const scratch = path.join(parent, `${scratchPrefix}${process.pid}`);
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, [INITDB_ENTRY, scratch], { timeout: 120_000 }, (error, _stdout, stderr) => {
        if (error)
          reject(
            new Error(
              `could not create the embedded database in ${parent}: ${stderr.trim().split('\n').slice(-3).join(' ') || error.message}`,
            ),
          );
        else resolve();
      });
    });
    fs.rmSync(pgdata, { recursive: true, force: true });
    fs.renameSync(scratch, pgdata);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
