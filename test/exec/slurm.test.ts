import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlurmExecutor, arraySpec, batchScript, shellQuote } from '../../src/exec/slurm.js';
import { slurmDevCluster } from '../helpers/slurm.js';

const node = process.execPath;

describe('batch scripts', () => {
  it('compact array specs list exactly the given indices', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(60), { minLength: 1, maxLength: 30 }), (indices) => {
        const expanded = arraySpec(indices)
          .split(',')
          .flatMap((part) => {
            const [a, b] = part.split('-').map(Number);
            return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, k) => a! + k);
          });
        expect(expanded).toEqual([...indices].sort((x, y) => x - y));
      }),
    );
  });

  it('quotes any word so that bash reads it back unchanged', () => {
    // one bash for every sampled word (a process per word is slow on a loaded machine)
    const words = [
      ...fc.sample(
        fc.string({ maxLength: 20 }).filter((s) => !s.includes('\0')),
        200,
      ),
      '',
      "it's",
      'a b',
      '$HOME',
      '`x`',
      '"q"',
      '\\',
      '*',
      '-n',
    ];
    const out = execFileSync('bash', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
    expect(out.split('\0').slice(0, -1)).toEqual(words);
  });

  it('carries the settings as #SBATCH lines and runs the task of its array index', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gzh-sbatch-'));
    const tasks = {
      name: 'train',
      indices: [0, 2, 3],
      argv: (i: number) => ['echo', `task ${i}`, "it's"],
      cwd: dir,
      logDir: join(dir, 'logs'),
      env: { A: 'b c' },
    };
    const text = batchScript(
      tasks,
      {
        partition: 'gpu',
        account: 'gz',
        time: '1:00:00',
        cpusPerTask: 4,
        mem: '8G',
        extra: ['--qos=long', '#SBATCH --constraint=avx2'],
      },
      ['17'],
    );
    for (const line of [
      '--job-name=train',
      '--array=0,2-3',
      '--partition=gpu',
      '--account=gz',
      '--time=1:00:00',
      '--cpus-per-task=4',
      '--mem=8G',
      '--qos=long',
      '--constraint=avx2',
      '--dependency=afterany:17',
    ]) {
      expect(text).toContain(`#SBATCH ${line}\n`);
    }
    expect(text).toContain(`--output=${join(dir, 'logs', 'train-%a.log')}`);
    expect(text).not.toContain('--kill-on-invalid-dep');
    // afterok: wait for success, and be cancelled (not left pending) when it cannot come
    const after = batchScript(tasks, {}, { afterok: ['5'], afterany: ['6', '7'] });
    expect(after).toContain('#SBATCH --dependency=afterok:5,afterany:6:7\n#SBATCH --kill-on-invalid-dep=yes\n');
    expect(batchScript(tasks, {}, { afterok: [], afterany: [] })).not.toContain('--dependency');
    execFileSync('mkdir', ['-p', join(dir, 'logs')]);
    const out = execFileSync('bash', ['-c', text], {
      encoding: 'utf8',
      env: { ...process.env, SLURM_ARRAY_TASK_ID: '2' },
    });
    expect(out).toBe("task 2 it's\n");
    expect(readFileSync(join(dir, 'logs', 'train-2.exit'), 'utf8').trim()).toBe('0');
  });

  it('passes SIGTERM on to the command, waits for it to stop and records its exit code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gzh-sbatch-'));
    const text = batchScript(
      { name: 'unit', indices: [0], argv: () => [node, '-e', stopsSlowly(dir)], cwd: dir, logDir: dir },
      {},
    );
    const shell = spawn('bash', ['-c', text], {
      env: { ...process.env, SLURM_ARRAY_TASK_ID: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await once(shell.stdout, 'data'); // the command runs and handles SIGTERM
    shell.kill('SIGTERM'); // the batch shell alone, as scancel --batch or --signal=B:TERM@<s> signal it
    const [code] = (await once(shell, 'exit')) as [number | null];
    expect(code).toBe(130);
    expect(readFileSync(join(dir, 'stopped'), 'utf8')).toBe('checkpointed');
    expect(readFileSync(join(dir, 'unit-0.exit'), 'utf8').trim()).toBe('130');
  });
});

/**
 * A command that, on SIGTERM, takes half a second to write `<dir>/stopped` (a checkpoint) and
 * exits 130, as an interrupted `gzh unit` does; it prints a line once its handler is in place.
 */
function stopsSlowly(dir: string): string {
  const file = JSON.stringify(join(dir, 'stopped'));
  return (
    `process.on('SIGTERM',()=>setTimeout(()=>{require('fs').writeFileSync(${file},'checkpointed');` +
    `process.exit(130)},500));console.log('ready');setInterval(()=>{},1000)`
  );
}

const skip = slurmDevCluster();

describe.skipIf(skip !== null)(`SlurmExecutor on the dev cluster${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('runs an array 2 tasks at a time, reports each exit code, and a dependent job waits for it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gzh-slurm-'));
    const events = join(dir, 'events');
    const script =
      `const fs=require('fs');const i=+process.argv[1];fs.appendFileSync(${JSON.stringify(events)},'start '+i+' ` +
      `'+Date.now()+'\\n');setTimeout(()=>{fs.appendFileSync(${JSON.stringify(events)},'end '+i+' ` +
      `'+Date.now()+'\\n');console.log('threads',process.env.GZH_THREADS);process.exit(i===3?7:0)},1500)`;
    const executor = new SlurmExecutor({ scriptDir: dir, cpusPerTask: 1, pollSeconds: 0.5 });
    const tasks = {
      name: 'demo',
      indices: [0, 1, 2, 3],
      argv: (i: number) => [node, '-e', script, String(i)],
      cwd: dir,
      logDir: join(dir, 'logs'),
    };
    const job = await executor.submit(tasks);
    const after = await executor.submit(
      {
        name: 'after',
        indices: [0],
        argv: () => [node, '-e', `require('fs').appendFileSync(${JSON.stringify(events)},'after 0 '+Date.now()+'\\n')`],
        cwd: dir,
        logDir: join(dir, 'logs'),
      },
      [job.id],
    );
    const outcomes = await executor.wait(job);
    expect(outcomes.map((o) => [o.index, o.ok, o.exitCode])).toEqual([
      [0, true, 0],
      [1, true, 0],
      [2, true, 0],
      [3, false, 7],
    ]);
    expect(readFileSync(outcomes[0]!.log, 'utf8')).toContain('threads 1');
    expect(existsSync(join(dir, 'demo.sbatch'))).toBe(true);
    expect((await executor.wait(after))[0]!.ok).toBe(true);
    const lines = readFileSync(events, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    let running = 0;
    let most = 0;
    for (const [kind] of [...lines].sort((a, b) => Number(a[2]) - Number(b[2]))) {
      if (kind === 'start') most = Math.max(most, ++running);
      if (kind === 'end') running--;
    }
    expect(most).toBe(2);
    const lastEnd = Math.max(...lines.filter((l) => l[0] === 'end').map((l) => Number(l[2])));
    expect(Number(lines.find((l) => l[0] === 'after')![2])).toBeGreaterThanOrEqual(lastEnd);
  }, 120_000);

  it('scancels the job when aborted and reports the cancelled tasks as failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gzh-slurm-'));
    const executor = new SlurmExecutor({ scriptDir: dir, cpusPerTask: 1, pollSeconds: 0.5 });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 3000);
    const outcomes = await executor.runArray(
      { name: 'sleep', indices: [0, 1], argv: () => [node, '-e', 'setTimeout(()=>{},120000)'], cwd: dir, logDir: dir },
      { signal: controller.signal },
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    // the batch shell outlives SIGTERM and records the command's end (143: killed by SIGTERM);
    // a task still pending when cancelled records none
    expect(outcomes.every((o) => !o.ok && (o.exitCode === 143 || o.exitCode === null))).toBe(true);
    expect(outcomes[0]!.message).toMatch(/exit code 143: stopped by a signal|no exit status/);
  }, 120_000);

  it('a cancelled task stops as its command chooses: the command finishes its checkpoint within KillWait', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gzh-slurm-'));
    const executor = new SlurmExecutor({ scriptDir: dir, cpusPerTask: 1, pollSeconds: 0.5 });
    const tasks = { name: 'unit', indices: [0], argv: () => [node, '-e', stopsSlowly(dir)], cwd: dir, logDir: dir };
    const job = await executor.submit(tasks);
    const log = join(dir, 'unit-0.log');
    const ready = () => existsSync(log) && readFileSync(log, 'utf8').includes('ready');
    for (let i = 0; i < 600 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    // scancel: SIGTERM to the batch shell and the command, SIGKILL after KillWait
    await executor.cancel(job);
    const [outcome] = await executor.wait(job);
    expect(readFileSync(join(dir, 'stopped'), 'utf8')).toBe('checkpointed');
    expect(outcome).toMatchObject({ ok: false, exitCode: 130 });
    expect(outcome!.message).toMatch(/^exit code 130: stopped by a signal/);
  }, 120_000);
});
