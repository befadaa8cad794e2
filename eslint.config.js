// Lint config: typescript-eslint's recommended rules over src/ and test/.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  ...tseslint.configs.recommended,
  {
    ignores: ['dist/**', 'build/**', 'bench/**'],
  },
  {
    // The event typings of WebSocket and WebSocketServer are interfaces merged with the classes, as
    // @types/ws declares ws's; they only add overloads of methods the classes inherit or define.
    files: ['src/websocket/websocket.ts', 'src/websocket/websocket-server.ts'],
    rules: { '@typescript-eslint/no-unsafe-declaration-merging': 'off' },
  },
  {
    // The CommonJS programs of the type and package tests are written as CommonJS users write them.
    files: ['test/types/**', 'test/package/fixtures/**'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
