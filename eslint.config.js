// Lint config: typescript-eslint's recommended rules over src/ and test/.
import tseslint from 'typescript-eslint';

export default tseslint.config(...tseslint.configs.recommended, {
  ignores: ['dist/**', 'build/**', 'bench/**'],
});
