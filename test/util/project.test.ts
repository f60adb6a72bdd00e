import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot, packageVersion, projectHome } from '../../src/util/project.js';

const tmp = mkdtempSync(join(tmpdir(), 'gzh-project-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('package root and project home', () => {
  it('finds this package and its version', () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    expect(pkg.name).toBe('galaxy-zoo-hierarchy');
    expect(packageVersion()).toBe(pkg.version);
  });

  it('keeps working files in a source checkout, in the current directory when installed, in GZH_HOME when set', () => {
    expect(projectHome({}, '/src/gzh', '/work')).toBe('/src/gzh');
    expect(projectHome({}, '/app/node_modules/galaxy-zoo-hierarchy', '/app')).toBe('/app');
    expect(projectHome({}, '/app/node_modules/@x/node_modules/galaxy-zoo-hierarchy', '/w')).toBe('/w');
    expect(projectHome({ GZH_HOME: '/data/gzh' }, '/app/node_modules/galaxy-zoo-hierarchy', '/app')).toBe('/data/gzh');
    expect(projectHome({}, '/home/me/my_node_modules_notes/gzh', '/w')).toBe('/home/me/my_node_modules_notes/gzh');
  });
});

describe('postinstall (scripts/setup-native.mjs)', () => {
  it('does nothing when the package is installed as a dependency', () => {
    const scripts = join(tmp, 'app', 'node_modules', 'galaxy-zoo-hierarchy', 'scripts');
    mkdirSync(scripts, { recursive: true });
    copyFileSync(join(packageRoot(), 'scripts', 'setup-native.mjs'), join(scripts, 'setup-native.mjs'));
    const env = { ...process.env, GZH_BUILD_NATIVE: '', GZH_SKIP_NATIVE: '' };
    const r = spawnSync(process.execPath, [join(scripts, 'setup-native.mjs')], {
      encoding: 'utf8',
      env,
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('installed as a dependency: nothing to do');
  });
});
