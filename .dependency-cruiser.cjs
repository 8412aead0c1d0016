/**
 * The layers of src/, top to bottom. A folder may import its own files and anything in a lower
 * layer, never a higher one or a sibling of its own layer (but where a rule below allows it).
 * `npm run lint` runs this; the README's "Architecture" section draws the same picture.
 */
const layers = [
  ['composition root', '^src/(main|tollgate)\\.ts$'],
  ['HTTP apps', '^src/(http|admin)/'],
  ['pages', '^src/pages/'],
  ['protocol', '^src/(oidc|limits)/'],
  ['domain', '^src/(clients|apis|users|api-keys)/'],
  ['stores', '^src/(artefacts|keys|audit)/'],
  ['building blocks', '^src/(db|web|contract|oidc-provider|metrics)/'],
  ['foundation', '^src/(lib/|config\\.ts$|log\\.ts$|runtime-check\\.ts$)'],
];

const upward = layers.slice(1).map(([name, from], index) => ({
  name: `layers: ${name} imports upward`,
  comment: `${name} may import only lower layers`,
  severity: 'error',
  from: { path: from },
  to: { path: layers.slice(0, index + 1).map(([, path]) => path) },
}));

/** Folders of one layer that must not know each other (folder → folders it may not import). */
const siblings = [
  // The admin app is built from the same middleware as the public app (http/), never the reverse.
  ['src/http/', 'src/admin/'],
  ['src/oidc/', 'src/limits/'],
  ['src/limits/', 'src/oidc/'],
  ['src/apis/', 'src/(clients|users)/'],
  ['src/users/', 'src/(clients|apis)/'],
  ['src/clients/', 'src/users/'],
  // API keys read the client directory and the API catalog; nothing of the domain reads them.
  ['src/(clients|apis|users)/', 'src/api-keys/'],
  ['src/api-keys/', 'src/users/'],
  ['src/keys/', 'src/artefacts/'],
  // Key rotations reach the audit log through KeyRing's callback, wired in src/tollgate.ts.
  ['src/keys/', 'src/audit/'],
  ['src/audit/', 'src/(keys|artefacts)/'],
  ['src/artefacts/', 'src/audit/'],
  ['src/db/', 'src/(web|contract|oidc-provider)/'],
  ['src/web/', 'src/(db|contract)/'],
  ['src/contract/', 'src/(db|web|oidc-provider)/'],
  // The seam knows oidc-provider and nothing of Tollgate but lib/: every layer above may use it.
  ['src/oidc-provider/', 'src/(db|web|contract)/'],
  ['src/pages/interactions/', 'src/pages/device/'],
  // Every layer above records into metrics/; it reads what it reports through callbacks.
  ['src/metrics/', 'src/(db|web|contract|oidc-provider)/'],
  ['src/(db|web|contract|oidc-provider)/', 'src/metrics/'],
].map(([from, to]) => ({
  name: `siblings: ${from} → ${to}`,
  severity: 'error',
  from: { path: `^${from}` },
  to: { path: `^${to}` },
}));

module.exports = {
  forbidden: [
    ...upward,
    ...siblings,
    {
      name: 'cli is a client of the admin API',
      comment: 'the tollgate command speaks HTTP to the admin listener; it shares only the wire contract',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/', pathNot: '^src/(cli|contract|lib)/' },
    },
    {
      name: 'resource-server stands alone',
      comment: '@tollgate/resource-server is published on its own: nothing of the server',
      severity: 'error',
      from: { path: '^packages/resource-server/' },
      to: { path: '^(src|bench|test|migrations)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
