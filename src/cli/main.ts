#!/usr/bin/env node
import { Command } from 'commander';
import { registerCommands } from './commands.js';
import { readPackageVersion } from './version.js';

const program = new Command();
program
  .name('gzh')
  .description('galaxy-zoo-hierarchy: predict Galaxy Zoo vote fractions with tree-aware CNNs')
  .version(readPackageVersion())
  .option('--backend <name>', 'compute backend: tensorflow | wasm | cpu (default: best available; env GZH_BACKEND)')
  .option('--data-dir <dir>', 'Galaxy Zoo data directory (default ../shared/data; env GZH_DATA_DIR)')
  .option('--json', 'machine-readable JSON output')
  .option('-q, --quiet', 'no progress bars or chatter');

registerCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`gzh: ${message}\n`);
  process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
});
