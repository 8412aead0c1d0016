import fs from 'node:fs';
import path from 'node:path';

/** The TypeScript files of src/, relative to it, with their text: for checks that a decision is made in one place. */
export function sourceFilesOfSrc(): { file: string; text: string }[] {
  const src = path.resolve(import.meta.dirname, '../../src');
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? walk(full) : entry.name.endsWith('.ts') ? [full] : [];
    });
  return walk(src).map((full) => ({ file: path.relative(src, full), text: fs.readFileSync(full, 'utf8') }));
}
