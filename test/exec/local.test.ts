import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/exec/local.js';

const node = process.execPath;

describe('LocalExecutor', () => {
  it('runs every requested task, at most `jobs` at a time, and reports each outcome with its log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gzh-local-'));
    const script =
      `const fs=require('fs');const ` +
      `i=+process.argv[1];fs.appendFileSync(${JSON.stringify(join(dir, 'events'))},'start ` +
      `'+i+'\\n');setTimeout(()=>{fs.appendFileSync(${JSON.stringify(join(dir, 'events'))},'end ` +
      `'+i+'\\n');console.log('threads',process.env.GZH_THREADS);process.exit(i===3?7:0)},1500)`;
    const executor = new LocalExecutor(2, 4);
    const ended: number[] = [];
    const outcomes = await executor.runArray(
      {
        name: 'demo',
        indices: [0, 1, 3, 4],
        argv: (i) => [node, '-e', script, String(i)],
        cwd: dir,
        logDir: join(dir, 'logs'),
      },
      { onTaskEnd: (o) => ended.push(o.index) },
    );
    expect(outcomes.map((o) => [o.index, o.ok, o.exitCode])).toEqual([
      [0, true, 0],
      [1, true, 0],
      [3, false, 7],
      [4, true, 0],
    ]);
    expect(ended.sort()).toEqual([0, 1, 3, 4]);
    expect(outcomes[2]!.message).toMatch(/exit code 7/);
    expect(readFileSync(outcomes[0]!.log, 'utf8')).toContain('threads 2');
    // Never more than two running at once.
    let running = 0;
    let most = 0;
    for (const line of readFileSync(join(dir, 'events'), 'utf8').trim().split('\n')) {
      running += line.startsWith('start') ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).toBe(2);
  });

  it('kills running tasks when aborted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gzh-local-'));
    const controller = new AbortController();
    const executor = new LocalExecutor(1);
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const outcomes = await executor.runArray(
      { name: 'sleep', indices: [0, 1], argv: () => [node, '-e', 'setTimeout(()=>{},60000)'], cwd: dir, logDir: dir },
      { signal: controller.signal },
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]!.ok).toBe(false);
    expect(outcomes[0]!.message).toMatch(/SIGTERM/);
  });

  it('refuses a job count that is not a whole number ≥ 1', () => {
    expect(() => new LocalExecutor(0)).toThrow(/--jobs/);
    expect(() => new LocalExecutor(1.5)).toThrow(/--jobs/);
  });
});
