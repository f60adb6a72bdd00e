import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const RELATIVE_IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/**
 * Compiles a TypeScript entry file and every file it imports relatively into `outDir` (same layout
 * as under `root`), type-stripping only, so a test can run it in a plain `node` child process.
 * Bare imports resolve through a `node_modules` link to the project's; a package.json with the
 * project's name marks `outDir` as the package root. Returns the entry's .js path.
 */
export function transpileForNode(entry: string, root: string, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  // the package's name and version, so the compiled code finds its package root (and version) here
  const { name, version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify({ name, version, type: 'module' })}\n`);
  const link = join(outDir, 'node_modules');
  if (!existsSync(link)) symlinkSync(join(root, 'node_modules'), link, 'dir');
  const seen = new Set<string>();
  const queue = [resolve(entry)];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    const out = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
    for (const match of source.matchAll(RELATIVE_IMPORT)) {
      const target = resolve(dirname(file), match[1]).replace(/\.js$/, '.ts');
      if (existsSync(target)) queue.push(target);
    }
  }
  return join(outDir, relative(root, resolve(entry))).replace(/\.ts$/, '.js');
}
