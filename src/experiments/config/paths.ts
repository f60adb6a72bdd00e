/** Path placeholders of configs (`${dataDir}`, `${configDir}`, …) and the default runs folder. */
import { isAbsolute, resolve } from 'node:path';
import { projectHome } from '../../util/project.js';

/** Default root of run folders and the registry: env GZH_RUNS_DIR, else runs/ under the project home. */
export function defaultRunsDir(): string {
  return process.env.GZH_RUNS_DIR ? resolve(process.env.GZH_RUNS_DIR) : resolve(projectHome(), 'runs');
}

/** What each placeholder stands for; `cacheDir` once preprocess.cacheDir is expanded. */
export interface PlaceholderValues {
  readonly dataDir: string;
  readonly configDir: string;
  readonly projectRoot: string;
  readonly runsDir: string;
  cacheDir?: string;
}

/**
 * Expand the placeholders of a path and make it absolute (relative to the config's folder).
 * An unknown placeholder adds a problem naming `field` and is left as written.
 */
export function expandPath(template: string, values: PlaceholderValues, field: string, problems: string[]): string {
  const expanded = template.replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    const v = (values as unknown as Record<string, string | undefined>)[name];
    if (v === undefined) {
      problems.push(
        `${field}: unknown placeholder ${whole}; allowed placeholders: \${dataDir}, \${configDir}, ` +
          `\${projectRoot}, \${runsDir}, \${cacheDir}`,
      );
      return whole;
    }
    return v;
  });
  return isAbsolute(expanded) ? resolve(expanded) : resolve(values.configDir, expanded);
}
