// Imported first by every entry point, so it runs before anything that needs a newer Node.
// The minimum is package.json's `tollgate.minimumNode` ("MAJOR.MINOR"), the one place it is stated
// (bin/tollgate.js reads it there too), so the check and the manifest cannot disagree. It is not
// `engines`: npm checks that against the system Node that runs npm (see bin/tollgate.js). Only
// fs and syntax an old Node understands, so that this file itself still loads there.
import fs from 'node:fs';

/** The nearest package.json above this file: the project's, from src/ (tests) or dist/src/ (npm start). */
function readManifest(): { tollgate?: { minimumNode?: string } } {
  for (let levels = 1; levels <= 4; levels += 1) {
    const candidate = new URL(`${'../'.repeat(levels)}package.json`, import.meta.url);
    if (fs.existsSync(candidate)) return JSON.parse(fs.readFileSync(candidate, 'utf8'));
  }
  throw new Error('runtime check: cannot find package.json above this file');
}

const stated = readManifest().tollgate?.minimumNode ?? '';
const required = /^(\d+)\.(\d+)$/.exec(stated);
if (!required)
  throw new Error(`runtime check: package.json tollgate.minimumNode must read "MAJOR.MINOR", not "${stated}"`);
/** The oldest Node Tollgate runs on, as package.json states it, e.g. "22.12". */
const MINIMUM_NODE_VERSION = `${required[1]}.${required[2]}`;

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const [needMajor, needMinor] = [Number(required[1]), Number(required[2])];
if (major < needMajor || (major === needMajor && minor < needMinor)) {
  process.stderr.write(
    `Tollgate needs Node.js ${MINIMUM_NODE_VERSION} or newer (Node 24 LTS recommended); this is ${process.version}.\n` +
      'Run it through npm ("npm start", "npx tollgate"), which uses the Node 24 this project installs, or install Node 24.\n',
  );
  process.exit(1);
}
