/**
 * What `bench:scale` measures around a phase process: its peak RSS (the kernel's high-water mark,
 * which covers its worker threads, since threads share the process's memory), the peak summed RSS of
 * any child processes it starts (sampled from /proc), and the disk used by a set of paths.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Peak memory of a phase process and of the processes it started, in MiB. */
export interface RssPeaks {
  /** VmHWM of the phase process (main thread + worker threads), sampled. */
  mainMiB: number;
  /** Largest sum of VmRSS over the phase process's descendant processes seen at one sample. */
  childrenMiB: number;
}

function statusField(pid: number, field: string): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0; // the process is gone
  }
}

/** Parent pid of every process, from /proc/<pid>/stat. */
function parents(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // the command name may hold spaces and parentheses: fields resume after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid);
      if (list) list.push(Number(entry));
      else children.set(ppid, [Number(entry)]);
    } catch {
      // exited while listing
    }
  }
  return children;
}

function descendants(pid: number): number[] {
  const tree = parents();
  const out: number[] = [];
  const queue = [...(tree.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.pop()!;
    out.push(next);
    queue.push(...(tree.get(next) ?? []));
  }
  return out;
}

/**
 * Samples `pid` every `intervalMs` until `stop()` is called; returns the peaks. The process's own
 * peak also comes from its final report (getrusage maxRSS), which catches spikes between samples.
 */
export function watchRss(pid: number, intervalMs = 250): { stop(): RssPeaks } {
  const peaks: RssPeaks = { mainMiB: 0, childrenMiB: 0 };
  let scanChildren = 0;
  const sample = () => {
    peaks.mainMiB = Math.max(peaks.mainMiB, statusField(pid, 'VmHWM'));
    // the process tree scan reads all of /proc: every 4th sample is enough for long-lived children
    if (scanChildren++ % 4 === 0) {
      const sum = descendants(pid).reduce((s, child) => s + statusField(child, 'VmRSS'), 0);
      peaks.childrenMiB = Math.max(peaks.childrenMiB, sum);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return peaks;
    },
  };
}

/** Bytes allocated on disk (st_blocks) under `path` (a file or a folder), 0 when absent. */
export function diskBytes(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.blocks * 512;
  let total = stat.blocks * 512;
  for (const entry of readdirSync(path)) total += diskBytes(join(path, entry));
  return total;
}
