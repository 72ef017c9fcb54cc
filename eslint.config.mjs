// ESLint flat config: typescript-eslint's recommended rules (not the type-checked preset: it needs a
// full type-check, which takes longer than the whole lint budget). `npm run lint` runs it.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'protocol/generated/', 'test/support/generated/', 'doc/', '.tmp/', 'data/'] },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `const { dropped: _dropped, ...rest } = x` and `_arg` are the way to say "deliberately unused".
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `const self = this` lets a getter in an object literal read the owner's live field.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
      // `import x = require('./generated/...')` keeps the namespace types of protobufjs's generated CommonJS.
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
    },
  },
  {
    // Tests read JSON replies of the HTTP endpoints without declaring each shape.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // CommonJS config files (.mocharc.js) run by Node as they are.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
