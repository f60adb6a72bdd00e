/**
 * The WebAssembly backend (`@tensorflow/tfjs-backend-wasm`, XNNPACK, SIMD where the runtime has
 * it) plus the kernels it needs to train (conv-grad.ts) and faster training kernels
 * (training-kernels.ts). tfjs-backend-wasm 4.22 disables
 * threads under Node, so it computes on one thread.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { registerWasmConvGradients } from './conv-grad.js';
import { registerWasmTrainingKernels } from './training-kernels.js';

export interface WasmModule {
  readonly version: string;
  readonly threads: number;
  readonly simd: boolean;
}

let loaded: Promise<WasmModule> | undefined;

/** Imports the wasm backend once, registers the training kernels and initialises it. */
export function loadWasm(): Promise<WasmModule> {
  loaded ??= (async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    registerWasmConvGradients();
    registerWasmTrainingKernels();
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const require = createRequire(import.meta.url);
    const pkg = require('@tensorflow/tfjs-backend-wasm/package.json') as { version: string };
    if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') failed");
    let threads: number;
    try {
      threads = wasm.getThreadsCount();
    } catch {
      threads = 1;
    }
    return { version: `tfjs-backend-wasm ${pkg.version}${simd ? ' (SIMD)' : ''}`, threads, simd };
  })();
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}
