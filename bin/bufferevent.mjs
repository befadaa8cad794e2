#!/usr/bin/env node
// The `bufferevent` command. Only a launcher: the commands are src/server/cli (compiled to dist/ by
// `npm run build:ts`, which npm runs when the package is packed or installed from git).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let cli;
try {
  cli = require('../dist/server/cli/main.js');
} catch (error) {
  if (error?.code !== 'MODULE_NOT_FOUND' || !String(error.message).includes('server/cli/main.js'))
    throw error;
  process.stderr.write('bufferevent: dist/ is not built: run "npm run build:ts" in the package directory\n');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
