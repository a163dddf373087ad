import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What functions/core may import besides itself: pure libraries and hashing, no I/O of any kind. */
const CORE_MAY_IMPORT = '(zod|picomatch|node:crypto)$';
const coreBoundary = (outsideCore) => [
  'error',
  {
    patterns: [
      {
        regex: `^(?!${CORE_MAY_IMPORT})(?!\\./)${outsideCore}`,
        message:
          'functions/core is pure: no I/O (node:fs, net, http, mysql2, the AWS SDK) and no other room of the code. Pass values in from the shell.',
      },
    ],
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'cdk.out/', 'bin/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } } },
  // The pure core: anything but itself, zod, picomatch and node:crypto is refused (a file in core/
  // may import ./x; one in core/rules/ may import ./x and ../x, never ../../x).
  { files: ['functions/core/*.ts'], rules: { 'no-restricted-imports': coreBoundary('') } },
  {
    files: ['functions/core/*/**/*.ts'],
    rules: { 'no-restricted-imports': coreBoundary('(?!\\.\\./(?!\\.\\./))') },
  },
);
