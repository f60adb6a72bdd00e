/**
 * The native TensorFlow backend (`@tensorflow/tfjs-node`, an optional dependency built by
 * scripts/setup-native.mjs when its prebuilt download is unavailable).
 *
 * Loading it: thread settings are environment variables that TensorFlow reads when tfjs-node
 * creates its eager context (on first import), so they are set here before the import.
 */
import * as tf from '@tensorflow/tfjs';
import { availableCpusForNative } from './threads.js';
import { registerNativeKernels } from './native-kernels.js';

/** Non-literal so TypeScript does not require the optional package to be installed. */
const TFJS_NODE = '@tensorflow/tfjs-node';

export interface NativeModule {
  readonly version: string;
}

let loaded: Promise<NativeModule> | undefined;

/** Intra-op threads TensorFlow uses (GZH_THREADS / TF_NUM_INTRAOP_THREADS, else all CPUs). */
export function nativeThreads(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.TF_NUM_INTRAOP_THREADS);
  return Number.isInteger(n) && n > 0 ? n : availableCpusForNative();
}

function applyThreadSettings(env: NodeJS.ProcessEnv): void {
  const gzh = Number(env.GZH_THREADS);
  if (Number.isInteger(gzh) && gzh > 0 && env.TF_NUM_INTRAOP_THREADS === undefined) {
    env.TF_NUM_INTRAOP_THREADS = String(gzh);
  }
  // Ops run one at a time from JS (eager), so a wide inter-op pool only adds contention.
  if (env.TF_NUM_INTEROP_THREADS === undefined) env.TF_NUM_INTEROP_THREADS = '1';
  // Keep TensorFlow's C++ INFO/WARNING chatter (cpu_feature_guard and the like) off the terminal;
  // TensorFlow 2.21's oneDNN notice is printed while the library loads, before this level applies.
  if (env.TF_CPP_MIN_LOG_LEVEL === undefined) env.TF_CPP_MIN_LOG_LEVEL = '2';
}

/** Imports tfjs-node once, registers the project's native kernels, and reports versions. */
export function loadNative(): Promise<NativeModule> {
  loaded ??= (async () => {
    applyThreadSettings(process.env);
    let mod: { version?: Record<string, string> };
    try {
      mod = (await import(TFJS_NODE)) as { version?: Record<string, string> };
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new Error(`${TFJS_NODE} does not load (${message}); run \`node scripts/setup-native.mjs\``, {
        cause: error,
      });
    }
    if (tf.findBackendFactory('tensorflow') === undefined && tf.findBackend('tensorflow') === undefined) {
      throw new Error(`${TFJS_NODE} loaded but registered no 'tensorflow' backend in this @tensorflow/tfjs`);
    }
    registerNativeKernels();
    const nodeVersion = mod.version?.['tfjs-node'] ?? 'unknown';
    const backend = tf.findBackend('tensorflow') ?? (await tf.setBackend('tensorflow'), tf.findBackend('tensorflow'));
    const binding = (backend as unknown as { binding?: { TF_Version?: string } } | null)?.binding;
    return { version: `tfjs-node ${nodeVersion} / TensorFlow ${binding?.TF_Version ?? 'unknown'}` };
  })();
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}
