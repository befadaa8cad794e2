// Lint config: typescript-eslint's recommended rules over src/ and test/.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  ...tseslint.configs.recommended,
  {
    ignores: ['dist/**', 'build/**', 'bench/**'],
  },
  {
    // The CommonJS programs of the type and package tests are written as CommonJS users write them.
    files: ['test/types/**', 'test/package/fixtures/**'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
