// The type test: typical ws programs (test/types/esm, test/types/cjs) compile under strict against
// this package as users install it, and, as a control, against ws's own types (@types/ws). They
// resolve 'bufferevent/websocket' through package.json "exports" to entry/ and dist/, which
// `npm test` builds first (scripts/bootstrap.sh).
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function compile(config: string): Promise<{ code: number; output: string }> {
  const project = path.isAbsolute(config) ? config : fileURLToPath(new URL(config, import.meta.url));
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, '-p', project], (error, stdout, stderr) => {
      resolve({
        code: error === null ? 0 : ((error.code as number | undefined) ?? -1),
        output: stdout + stderr,
      });
    });
  });
}

describe('ws programs type-check', () => {
  test('against bufferevent/websocket (import and require)', async () => {
    expect(await compile('./tsconfig.json')).toEqual({ code: 0, output: '' });
  });

  test('against @types/ws as import (control)', async () => {
    expect(await compile('./tsconfig.ws.json')).toEqual({ code: 0, output: '' });
  });

  test('against @types/ws as require (control)', async () => {
    expect(await compile('./tsconfig.ws-cjs.json')).toEqual({ code: 0, output: '' });
  });
});

describe('ws programs type-check in a project that depends on the package', () => {
  // node_modules/bufferevent links to this checkout, as `npm install <clone>` makes it.
  const project = mkdtempSync(path.join(tmpdir(), 'bufferevent-types-'));
  afterAll(() => rmSync(project, { recursive: true, force: true }));
  const here = fileURLToPath(new URL('./', import.meta.url));
  const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
  mkdirSync(path.join(project, 'node_modules', '@types'), { recursive: true });
  symlinkSync(packageRoot, path.join(project, 'node_modules', 'bufferevent'), 'dir');
  symlinkSync(
    path.join(packageRoot, 'node_modules', '@types', 'node'),
    path.join(project, 'node_modules', '@types', 'node'),
    'dir',
  );
  for (const dir of ['esm', 'cjs', 'core'])
    cpSync(path.join(here, dir), path.join(project, dir), { recursive: true });
  writeFileSync(path.join(project, 'package.json'), '{ "type": "module" }\n');
  const options = {
    target: 'ES2022',
    lib: ['ES2022'],
    types: ['node'],
    strict: true,
    noEmit: true,
    allowJs: true,
    checkJs: true,
  };
  const writeConfig = (name: string, config: object): string => {
    writeFileSync(path.join(project, name), JSON.stringify(config));
    return path.join(project, name);
  };

  test('with NodeNext resolution ("exports")', async () => {
    const config = writeConfig('tsconfig.json', {
      compilerOptions: { ...options, module: 'NodeNext', moduleResolution: 'NodeNext' },
      include: ['esm', 'cjs', 'core'],
    });
    expect(await compile(config)).toEqual({ code: 0, output: '' });
  });

  test('CommonJS with the older "node" resolution, which ignores "exports" ("typesVersions")', async () => {
    const config = writeConfig('tsconfig.node10.json', {
      compilerOptions: { ...options, module: 'CommonJS', moduleResolution: 'Node10', esModuleInterop: true },
      include: ['cjs', 'core/*.cts', 'core/*.cjs'],
    });
    expect(await compile(config)).toEqual({ code: 0, output: '' });
  });
});

describe('the require() entry', () => {
  test("declares every type name that src/websocket/index.ts exports (entry/websocket.d.cts's namespace)", () => {
    const index = readFileSync(new URL('../../src/websocket/index.ts', import.meta.url), 'utf8');
    const declarations = readFileSync(new URL('../../entry/websocket.d.cts', import.meta.url), 'utf8');
    const inline = [...index.matchAll(/\btype (\w+)/g)].map((match) => match[1]!);
    const blocks = [...index.matchAll(/export type \{([^}]*)\}/g)].flatMap((match) =>
      match[1]!.split(',').map((name) => name.trim()),
    );
    const exported = [...inline, ...blocks].filter((name) => name !== '');
    expect(exported.length).toBeGreaterThan(20);
    const declared = new Set(
      [...declarations.matchAll(/^\s*(?:type|interface|export import) (\w+)/gm)].map((match) => match[1]!),
    );
    expect(exported.filter((name) => !declared.has(name))).toEqual([]);
  });
});
