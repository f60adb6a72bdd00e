import os from 'node:os';

/** Logical CPUs available to this process (respects affinity / cgroup limits where Node does). */
export function availableCpusForNative(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
