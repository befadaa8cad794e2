// `npm install` hook: checks for libevent's development files before compiling, so a missing
// libevent is one clear message instead of a compiler error; then builds the addon with node-gyp.
import { spawnSync } from 'node:child_process';

const probe = spawnSync('pkg-config', ['--atleast-version=2.1', 'libevent_core', 'libevent_extra'], {
  stdio: 'ignore',
});
if (probe.error || probe.status !== 0) {
  const how = probe.error ? 'pkg-config is not installed' : 'pkg-config cannot find libevent_core >= 2.1';
  console.error(
    [
      '',
      `bufferevent: libevent 2.1 development files are required (${how}). Install them, then run npm install again:`,
      '  Debian/Ubuntu:  sudo apt-get install libevent-dev pkg-config',
      '  Fedora/RHEL:    sudo dnf install libevent-devel pkgconf-pkg-config',
      '  macOS:          brew install libevent pkg-config   (the binding itself needs Linux: it drives libevent\'s epoll backend)',
      '',
    ].join('\n'),
  );
  process.exit(1);
}
// npm tells its scripts where its bundled node-gyp is; outside npm, fall back to the one on PATH.
const nodeGyp = process.env.npm_config_node_gyp;
const result = nodeGyp
  ? spawnSync(process.execPath, [nodeGyp, 'rebuild'], { stdio: 'inherit' })
  : spawnSync('node-gyp', ['rebuild'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
