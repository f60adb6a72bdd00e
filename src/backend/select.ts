/**
 * The one module that picks and initialises the TensorFlow.js compute backend.
 *
 * Import decision: all project code imports TensorFlow.js as `import * as tf from '@tensorflow/tfjs'`.
 * There is exactly one copy of @tensorflow/tfjs-core in node_modules (tfjs-node 4.22.0 depends on
 * the same @tensorflow/tfjs 4.22.0), so the native backend that `@tensorflow/tfjs-node` registers
 * on import is visible through the project's own `tf`. This module imports tfjs-node dynamically,
 * by a non-literal specifier, because it is an optional dependency: it may be absent (install
 * failed, GZH_SKIP_NATIVE=1) and the project must still type-check, build and run on wasm or cpu.
 * Code must never import '@tensorflow/tfjs-node' itself; call `initBackend()` once at start-up
 * (the CLI does this from the global `--backend` option) and then use `tf` as usual.
 *
 * Choice order: explicit argument (CLI `--backend` / experiment config) > env GZH_BACKEND >
 * automatic: `tensorflow` (native) if it loads, else `wasm`, else `cpu`. An explicitly requested
 * backend that cannot be initialised is an error, not a silent fallback.
 */
import * as tf from '@tensorflow/tfjs';
import { loadNative, nativeThreads } from './native.js';
import { loadWasm } from './wasm/index.js';
import { InputError } from '../errors.js';

/** The compute backends, best first. */
export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
/** A compute backend. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The backend in use: its name, version and thread count. */
export interface BackendInfo {
  /** The backend now active in `tf`. */
  readonly name: BackendName;
  /** Version string, e.g. "tfjs-node 4.22.0 / TensorFlow 2.21.0". */
  readonly version: string;
  /** Compute threads the backend uses. */
  readonly threads: number;
  /** How the name was chosen. */
  readonly source: 'argument' | 'env' | 'auto';
  /** Backends tried before this one, with the reason each was not used. */
  readonly skipped: ReadonlyArray<{
    /** A backend tried before this one. */
    readonly name: BackendName;
    /** Why it was not used. */
    readonly reason: string;
  }>;
  /** The TensorFlow.js namespace the backend is registered in. */
  readonly tf: typeof tf;
}

export function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (BACKEND_NAMES as readonly string[]).includes(value);
}

/** Parses a user-facing backend name ('' / 'auto' mean automatic). */
export function parseBackendName(value: string | undefined, origin: string): BackendName | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'auto') return undefined;
  if (v === 'native' || v === 'node' || v === 'tfjs-node') return 'tensorflow';
  if (isBackendName(v)) return v;
  throw new InputError(`${origin}: unknown backend '${value}' (expected ${BACKEND_NAMES.join(' | ')} | auto)`);
}

/** The explicit choice from argument then env, if any. */
export function requestedBackend(
  preferred?: string,
  env: NodeJS.ProcessEnv = process.env,
): { name: BackendName; source: 'argument' | 'env' } | undefined {
  const fromArg = parseBackendName(preferred, '--backend');
  if (fromArg) return { name: fromArg, source: 'argument' };
  const fromEnv = parseBackendName(env.GZH_BACKEND, 'GZH_BACKEND');
  if (fromEnv) return { name: fromEnv, source: 'env' };
  return undefined;
}

interface Loaded {
  readonly version: string;
  readonly threads: number;
}

async function activate(name: BackendName): Promise<Loaded> {
  switch (name) {
    case 'tensorflow': {
      const native = await loadNative();
      await setBackendOrThrow('tensorflow');
      return { version: native.version, threads: nativeThreads() };
    }
    case 'wasm': {
      const wasm = await loadWasm();
      await setBackendOrThrow('wasm');
      return { version: wasm.version, threads: wasm.threads };
    }
    case 'cpu':
      await setBackendOrThrow('cpu');
      return { version: `tfjs-backend-cpu ${tf.version_core}`, threads: 1 };
  }
}

async function setBackendOrThrow(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend('${name}') failed`);
}

let current: BackendInfo | undefined;

/**
 * Selects and initialises the backend (idempotent for the same request). `preferred` is the
 * CLI/config choice; undefined means env GZH_BACKEND, then automatic.
 */
export async function initBackend(preferred?: BackendName | 'auto' | string): Promise<BackendInfo> {
  const request = requestedBackend(preferred);
  if (
    current &&
    tf.getBackend() === current.name &&
    (request ? request.name === current.name : current.source === 'auto')
  ) {
    return current;
  }

  const skipped: Array<{ name: BackendName; reason: string }> = [];
  const order: BackendName[] = request ? [request.name] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    try {
      const loaded = await activate(name);
      current = { name, ...loaded, source: request?.source ?? 'auto', skipped, tf };
      return current;
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      if (request)
        throw new Error(
          `backend '${name}' (from ${request.source === 'env' ? 'GZH_BACKEND' : '--backend'}) is unavailable: ` +
            `${reason}`,
          { cause: error },
        );
      skipped.push({ name, reason });
    }
  }
  throw new Error(
    `no TensorFlow.js backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
  );
}

/** The backend chosen by the last `initBackend()`, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current && tf.getBackend() === current.name ? current : undefined;
}
