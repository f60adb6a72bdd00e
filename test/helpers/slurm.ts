import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const script = join(import.meta.dirname, '..', '..', 'scripts', 'slurm-dev-cluster.sh');

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, program)));
}

let cached: string | null | undefined;

/**
 * Starts the one-node development cluster (scripts/slurm-dev-cluster.sh) where Slurm is
 * installed, and points the Slurm clients at it (SLURM_CONF). Returns null when it runs, else why
 * the Slurm tests are skipped.
 */
export function slurmDevCluster(): string | null {
  if (cached !== undefined) return cached;
  if (!onPath('sbatch'))
    return (cached = 'sbatch is not installed (apt-get install slurm-wlm munge; .ci/run does it as root)');
  if (process.getuid?.() !== 0) return (cached = 'the Slurm dev cluster needs root to start its daemons');
  try {
    const out = execFileSync('bash', [script, 'start'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    const conf = /SLURM_CONF=(\S+)/.exec(out)?.[1];
    if (!conf) return (cached = `the Slurm dev cluster did not say where its slurm.conf is: ${out}`);
    process.env.SLURM_CONF = conf;
    return (cached = null);
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    return (cached = `the Slurm dev cluster did not start: ${(e.stderr ?? e.message).trim()}`);
  }
}
