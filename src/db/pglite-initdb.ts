/**
 * Child-process entry: creates an embedded PostgreSQL cluster in the directory given as the only
 * argument, then exits. Run by createEmbeddedCluster (embedded-cluster.ts) so that initdb's
 * memory — several hundred MiB of WebAssembly heap — is returned with this process instead of
 * staying with the server. Imports nothing of Tollgate's: it also runs as TypeScript under the
 * test runner.
 */
import { PGlite } from '@electric-sql/pglite';

const directory = process.argv[2];
if (!directory) {
  process.stderr.write('usage: pglite-initdb <directory>\n');
  process.exit(2);
}
const cluster = new PGlite(directory);
await cluster.waitReady;
await cluster.close();
