// Imported first by every entry point, so it runs before anything that needs a newer Node.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `Tollgate needs Node.js 22.12 or newer (Node 24 LTS recommended); this is ${process.version}.\n`
    + 'Run it through npm ("npm start", "npx tollgate"), which uses the Node 24 this project installs, or install Node 24.\n',
  );
  process.exit(1);
}
export {};
