/**
 * Where this package and the project's working files live. The package root is found once, by
 * walking up from this file to the package.json named galaxy-zoo-hierarchy (from src/ under a
 * test runner or dist/src/ when built). Working files (`runs/`, `.cache/`) go under the project
 * home: `GZH_HOME`, else the package root of a source checkout, else — for an installed package,
 * whose root lies inside node_modules — the current directory.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'galaxy-zoo-hierarchy';

interface PackageJson {
  readonly name?: string;
  readonly version?: string;
}

let found: { readonly root: string; readonly pkg: PackageJson } | undefined;

function findPackage(): { readonly root: string; readonly pkg: PackageJson } {
  if (found) return found;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
      if (pkg.name === PACKAGE_NAME) return (found = { root: dir, pkg });
    } catch {
      // no readable package.json here: look one level up
    }
    if (dirname(dir) === dir) throw new Error(`the ${PACKAGE_NAME} package.json was not found above ${start}`);
  }
}

/** Root of this package (the folder holding its package.json). */
export function packageRoot(): string {
  return findPackage().root;
}

/** The package version from package.json. */
export function packageVersion(): string {
  return findPackage().pkg.version ?? '0.0.0';
}

/**
 * The folder that holds the project's working files (`runs/`, `.cache/`): `GZH_HOME` when set,
 * else the package root of a source checkout, else the current directory (an installed package
 * never writes into node_modules).
 */
export function projectHome(env: NodeJS.ProcessEnv = process.env, root = packageRoot(), cwd = process.cwd()): string {
  if (env.GZH_HOME) return resolve(env.GZH_HOME);
  return `${root}${sep}`.includes(`${sep}node_modules${sep}`) ? cwd : root;
}
