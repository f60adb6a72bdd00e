import { spawn } from 'node:child_process';
import { register as registerPredict } from '../../src/cli/commands/predict.js';
import { type CliResult, runInProcess, testProgram } from '../helpers/cli.js';

/** `gzh predict …` in this process (on the cpu backend), with its output and exit code. */
export async function predictInProcess(args: string[]): Promise<CliResult> {
  return runInProcess(testProgram(registerPredict), ['predict', ...args], (error) => {
    process.stderr.write(`gzh: ${(error as Error).message}\n`);
    process.exitCode =
      (error as { exitCode?: number }).exitCode === 2 || (error as Error).name === 'InputError' ? 2 : 1;
  });
}

/** A `gzh` child process (the built entry) and its end. */
export function spawnCli(entry: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [entry, '--backend', 'cpu', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult & { signal: string | null }>((res) =>
    child.on('exit', (code, signal) => res({ stdout, stderr, exitCode: code ?? -1, signal })),
  );
  return { child, done };
}
