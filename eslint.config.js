// ESLint for the whole tree: typescript-eslint's recommended rules plus the type-aware ones that
// catch the bugs a server actually has (a promise nobody awaits, an async callback where a sync
// one is expected, a switch that misses a new case). Formatting is Prettier's (eslint-config-prettier
// switches off every rule that would fight it).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/', '**/node_modules/', 'bench/results/', 'coverage/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.node,
      parserOptions: {
        // Each file is checked with the tsconfig.json that includes it (the root one, or the
        // resource-server package's); the few files outside every tsconfig get a default project.
        projectService: {
          allowDefaultProject: [
            'bin/*.js',
            '.ci/*.mjs',
            'eslint.config.js',
            'vitest.config.ts',
            '.dependency-cruiser.cjs',
          ],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
      // `x == null` is the one loose comparison worth having: null or undefined.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // The server logs through pino (src/log.ts): a console line would break the one-JSON-object
    // per line output that log collectors parse.
    files: ['src/**'],
    rules: {
      'no-console': 'error',
    },
  },
  prettier,
);
