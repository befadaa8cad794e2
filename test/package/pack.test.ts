// What `npm pack` puts in the tarball (the files users install from a tarball or a git URL): what
// the exports, the addon's build and the docs need, and nothing else (no tests, benchmarks, builds,
// TypeScript sources or fuzz harnesses). Scripts are skipped: `prepare` would rebuild dist/ while
// other test files use it.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(`${packageRoot}package.json`, 'utf8')) as {
  exports: Record<string, unknown>;
  typesVersions: Record<string, unknown>;
  main: string;
  types: string;
};

let files: string[] = [];

beforeAll(async () => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      'npm',
      ['pack', '--dry-run', '--json', '--ignore-scripts'],
      { cwd: packageRoot, timeout: 60_000 },
      (error, out) => (error === null ? resolve(out) : reject(error)),
    );
  });
  const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  files = pack.files.map((file) => file.path).sort();
}, 60_000);

/** Every file path named in package.json "exports", at any depth of conditions. */
function exportedFiles(value: unknown): string[] {
  if (typeof value === 'string') return [value.replace(/^\.\//, '')];
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(exportedFiles);
  return [];
}

describe('npm pack', () => {
  test('contains only what users need', () => {
    const allowed =
      /^(dist\/|entry\/|native\/|docs\/|web\/|bin\/bufferevent\.mjs$|binding\.gyp$|scripts\/install\.mjs$|README\.md$|package\.json$)/;
    expect(files.filter((file) => !allowed.test(file))).toEqual([]);
    expect(
      files.filter((file) => /^(test|bench|build|src|examples|node_modules)\/|\.map$|\/fuzz\//.test(file)),
    ).toEqual([]);
  });

  test('contains every file the exports, main, types and typesVersions name', () => {
    const named = [
      ...exportedFiles(manifest.exports),
      ...exportedFiles(manifest.typesVersions),
      ...exportedFiles([manifest.main, manifest.types]),
    ];
    expect(named.length).toBe(16); // the paths of ".", "./websocket", "./channels", "./tail", main, types, typesVersions
    expect(named.filter((file) => !files.includes(file))).toEqual([]);
    for (const file of ['dist/package.json', 'dist/websocket/websocket.js', 'dist/native.js', 'README.md']) {
      expect(files).toContain(file);
    }
  });

  test('contains every source the addon is built from, and the install script', () => {
    const gyp = readFileSync(`${packageRoot}binding.gyp`, 'utf8');
    const sources = [...gyp.matchAll(/"(native\/[^"]+)"/g)].map((match) => match[1]!);
    expect(sources.length).toBeGreaterThan(20);
    expect(sources.filter((file) => !files.includes(file))).toEqual([]);
    expect(files).toContain('binding.gyp');
    expect(files).toContain('scripts/install.mjs');
    expect(files.filter((file) => file.endsWith('.h')).length).toBeGreaterThan(10);
  });
});
