/**
 * Child-process entry: creates an embedded PostgreSQL cluster in the directory given as the only
 * argument, then exits. Run by createEmbeddedCluster (embedded-cluster.ts) so that initdb's
 * memory — several hundred MiB of WebAssembly heap — is returned with this process instead of
 * staying with the server. Imports nothing of Tollgate's but its owner-only filesystem, and that
 * by this file's own extension: it also runs as TypeScript under the test runner.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type * as OwnerOnlyNodeFSModule from './owner-only-nodefs.js';

const extension = path.extname(fileURLToPath(import.meta.url));
const { OwnerOnlyNodeFS } = (await import(
  new URL(`./owner-only-nodefs${extension}`, import.meta.url).href
)) as typeof OwnerOnlyNodeFSModule;

const directory = process.argv[2];
if (!directory) {
  process.stderr.write('usage: pglite-initdb <directory>\n');
  process.exit(2);
}
const cluster = new PGlite({ fs: new OwnerOnlyNodeFS(directory) });
await cluster.waitReady;
await cluster.close();
