// After `tsc -p tsconfig.build.json`: dist/ holds the CommonJS build, while the package itself is
// "type": "module"; this package.json makes Node (and TypeScript) read dist/*.js as CommonJS.
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../dist/package.json', import.meta.url), '{ "type": "commonjs" }\n');
