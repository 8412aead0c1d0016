/**
 * PGlite's Node filesystem, made to create everything owner-only (folders 0700, files 0600), as
 * PostgreSQL itself does with umask(0077) (src/common/file_perm.c). PGlite runs PostgreSQL in
 * WebAssembly over Emscripten's NODEFS, which ignores that: every file it creates is chmod-ed
 * afterwards to the mode PostgreSQL asked for under Emscripten's own umask of 022, so initdb left
 * 968 files at 0666 and later files at 0644 — whatever the process umask. Clearing the group and
 * other bits at the two places NODEFS sets a mode (creating a node, changing its attributes)
 * catches every path; a process umask alone does not (measured on PGlite 0.5.16).
 *
 * Imports only packages: the initdb child process (pglite-initdb.ts) loads it as TypeScript under
 * the test runner too.
 */
import fs from 'node:fs';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/** Read, write and search permission of group and others. */
const GROUP_AND_OTHER_BITS = 0o077;

interface ModeAttributes {
  mode?: number;
}
interface NodefsOperations {
  node_ops: {
    mknod(parent: unknown, name: string, mode: number, dev: number): unknown;
    setattr(node: unknown, attributes: ModeAttributes): void;
  };
  stream_ops: { setattr?(stream: unknown, attributes: ModeAttributes): void };
}

type InitOptions = Parameters<NodeFS['init']>[1];
type InitResult = Awaited<ReturnType<NodeFS['init']>>;

function ownerOnly(attributes: ModeAttributes): ModeAttributes {
  return attributes.mode === undefined ? attributes : { ...attributes, mode: attributes.mode & ~GROUP_AND_OTHER_BITS };
}

/** Patches NODEFS in place (its nodes share these operation tables); refuses a NODEFS it does not recognise. */
function restrictModes(nodefs: NodefsOperations | undefined): void {
  const nodeOps = nodefs?.node_ops;
  if (!nodefs || typeof nodeOps?.mknod !== 'function' || typeof nodeOps.setattr !== 'function') {
    throw new Error(
      "PGlite's NODEFS no longer has node_ops.mknod/setattr: src/db/owner-only-nodefs.ts must be updated, or embedded database files would be readable by others",
    );
  }
  const { mknod, setattr } = nodeOps;
  nodeOps.mknod = (parent, name, mode, dev) => mknod(parent, name, mode & ~GROUP_AND_OTHER_BITS, dev);
  nodeOps.setattr = (node, attributes) => setattr(node, ownerOnly(attributes));
  const streamSetattr = nodefs.stream_ops.setattr;
  if (streamSetattr) nodefs.stream_ops.setattr = (stream, attributes) => streamSetattr(stream, ownerOnly(attributes));
}

export class OwnerOnlyNodeFS extends NodeFS {
  constructor(dataDir: string) {
    // NodeFS would create a missing folder with the process umask (0755 usually).
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    super(dataDir);
  }

  override async init(...args: Parameters<NodeFS['init']>): Promise<InitResult> {
    const result = await super.init(...args);
    const preRun: NonNullable<InitOptions['preRun']> = result.emscriptenOpts.preRun ?? [];
    result.emscriptenOpts.preRun = [...preRun, (mod) => restrictModes(mod.NODEFS as unknown as NodefsOperations)];
    return result;
  }
}
