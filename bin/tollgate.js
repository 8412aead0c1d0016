#!/usr/bin/env node
// The `tollgate` command. Plain JavaScript so it can refuse an old Node before loading anything.
import fs from 'node:fs';

// The minimum Node is package.json's "tollgate.minimumNode" ("MAJOR.MINOR"), the one place it is
// stated (src/runtime-check.ts reads it there too). Not "engines": npm checks that field against
// the Node running npm (the system Node), while the project runs everything on the Node 24 it
// installs, so on a system Node 20 it only made `npm install` and the first `npx tollgate` of a
// checkout print EBADENGINE warnings (test/cli/quiet.test.ts).
const { tollgate } = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const [, needMajor = '0', needMinor = '0'] = /^(\d+)\.(\d+)$/.exec(tollgate?.minimumNode ?? '') ?? [];
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < Number(needMajor) || (major === Number(needMajor) && minor < Number(needMinor))) {
  process.stderr.write(
    `tollgate: needs Node.js ${needMajor}.${needMinor} or newer (this is ${process.version}); run it as "npx tollgate", which uses the Node 24 this project installs, or install Node 24.\n`,
  );
  process.exit(1);
}
try {
  await import('../dist/src/cli/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli/main.js')) {
    process.stderr.write(
      'tollgate: the command is not built yet: run "npm run build" (npm install does it) in the Tollgate folder\n',
    );
    process.exit(1);
  }
  throw error;
}
