import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { packageRoot } from '../util/project.js';

/**
 * The CLI that child processes and tasks run (program and leading arguments): this process's
 * own when it is the CLI, else the built one.
 */
export function defaultUnitCommand(): string[] {
  const script = process.argv[1] ?? '';
  if (/cli[/\\]main\.(js|mjs)$/.test(script)) return [process.execPath, resolve(script)];
  const built = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(built)) {
    throw new InputError(
      `the executors run units through the built CLI, and ${built} does not exist: ` + 'run npm run build first',
    );
  }
  return [process.execPath, built];
}
