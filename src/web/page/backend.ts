/// <reference lib="dom" />
/**
 * The page's compute backend: WebGL where the browser renders it on a GPU, else WebAssembly (its
 * .wasm files served by the site itself, under wasm/), else plain JavaScript. A WebGL that is
 * only a software renderer (SwiftShader, llvmpipe: Chromium without a GPU) is several times slower
 * than wasm here, so it comes after wasm. `?backend=webgl` (or wasm, cpu) asks for one.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export const BACKENDS = ['webgl', 'wasm', 'cpu'] as const;

/** The WebGL renderer's name, or null without WebGL. */
export function webglRenderer(): string | null {
  const canvas = document.createElement('canvas');
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
  if (!gl) return null;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return name;
}

export function isSoftwareRenderer(renderer: string): boolean {
  return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
}

export interface BackendChoice {
  readonly name: string;
  /** Why it was chosen, for the status line. */
  readonly note: string;
}

export async function chooseBackend(requested: string | null): Promise<BackendChoice> {
  setWasmPaths(new URL('wasm/', document.baseURI).href);
  const renderer = webglRenderer();
  const software = renderer !== null && isSoftwareRenderer(renderer);
  let order: string[];
  let note: string;
  if (requested && (BACKENDS as readonly string[]).includes(requested)) {
    order = [requested];
    note = 'as requested';
  } else if (software) {
    order = ['wasm', 'webgl', 'cpu'];
    note = `WebGL here is a software renderer (${renderer}), slower than wasm`;
  } else {
    order = [...BACKENDS];
    note = renderer ? `GPU: ${renderer}` : 'no WebGL in this browser';
  }
  const failures: string[] = [];
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { name, note: failures.length ? `${note}; ${failures.join('; ')}` : note };
      }
      failures.push(`${name} not available`);
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`);
    }
  }
  throw new Error(`no TensorFlow.js backend works here (${failures.join('; ')})`);
}
