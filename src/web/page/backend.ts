/// <reference lib="dom" />
/**
 * The page's compute backend: WebGL where the browser has it, else WebAssembly (its .wasm files
 * served by the site itself, under wasm/), else plain JavaScript. `?backend=wasm` (or webgl, cpu)
 * asks for one.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export const BACKENDS = ['webgl', 'wasm', 'cpu'] as const;

export async function chooseBackend(requested: string | null): Promise<string> {
  setWasmPaths(new URL('wasm/', document.baseURI).href);
  const order = requested && (BACKENDS as readonly string[]).includes(requested) ? [requested] : [...BACKENDS];
  const failures: string[] = [];
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
      failures.push(`${name}: not available`);
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`);
    }
  }
  throw new Error(`no TensorFlow.js backend works here (${failures.join('; ')})`);
}
