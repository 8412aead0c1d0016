#!/usr/bin/env node
// `npm start` builds only when a source file is newer than the last build, so a warm start
// costs no compiler run. Plain JavaScript: it runs before anything is built.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Written after a build this script ran (tsc leaves its own build info untouched when nothing changed).
const stamp = path.join(root, 'dist', '.build-stamp');
const entry = path.join(root, 'dist', 'src', 'main.js');
const sources = [
  'src',
  'migrations',
  'examples',
  'packages/resource-server/src',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
];

function newestMtime(entry) {
  const full = path.join(root, entry);
  if (!fs.existsSync(full)) return 0;
  const stat = fs.statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...fs.readdirSync(full).map((name) => newestMtime(path.join(entry, name))));
}

const built = fs.existsSync(stamp) && fs.existsSync(entry) ? fs.statSync(stamp).mtimeMs : 0;
if (Math.max(...sources.map(newestMtime)) > built) {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
