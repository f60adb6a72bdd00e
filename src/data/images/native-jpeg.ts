/**
 * JPEG decoding with TensorFlow's libjpeg-turbo, called through tfjs-node's native addon directly.
 *
 * Why the addon and not `tf.node.decodeJpeg`: that goes through the TensorFlow.js engine, which
 * requires the global backend to be 'tensorflow' (importing tfjs-node also switches it), wraps the
 * bytes in a string tensor of the active backend and casts the uint8 result to int32 — three
 * allocations and a 4× copy per image. The addon (`tfjs_binding.node`) is the same library that
 * tfjs-node's backend drives; used here it never touches @tensorflow/tfjs-core, so loading it
 * cannot change which backend training or prediction uses, and it loads in worker threads.
 *
 * Costs on a 424×424 Kaggle JPEG (one core, see bench/data.ts): ~0.35 ms for full-resolution luma
 * (channels = 1: libjpeg outputs the Y plane, skipping chroma upsampling and colour conversion, as
 * OpenCV's IMREAD_GRAYSCALE does), ~0.2 ms for a 106 px crop (DecodeAndCropJpeg: rows above the
 * window are skipped, columns outside it are not inverse-transformed), against 2–4 ms for sharp.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
// A type only (erased): this module must not load @tensorflow/tfjs (it runs in worker threads).
import type { OpAttr } from '../../backend/node-binding.js';

interface TensorMeta {
  readonly id: number;
  readonly shape: number[];
  readonly dtype: number;
}

/** The parts of tfjs-node's N-API addon used here. */
interface Binding {
  readonly TF_ATTR_INT: number;
  readonly TF_ATTR_BOOL: number;
  readonly TF_ATTR_FLOAT: number;
  readonly TF_ATTR_STRING: number;
  readonly TF_ATTR_TYPE: number;
  readonly TF_STRING: number;
  readonly TF_INT32: number;
  readonly TF_UINT8: number;
  readonly TF_Version?: string;
  createTensor(shape: number[], dtype: number, values: unknown): number;
  executeOp(name: string, attrs: OpAttr[], inputs: number[], outputs: number): TensorMeta[];
  tensorDataSync(id: number): ArrayBufferView;
  deleteTensor(id: number): void;
}

export interface NativeImage {
  /** height × width × channels, row-major, uint8. */
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
}

/** A square or rectangular window in pixels. */
export interface Window {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export class NativeJpeg {
  /** e.g. "libjpeg-turbo via TensorFlow 2.21.0". */
  readonly version: string;
  private readonly b: Binding;
  private readonly decodeAttrs: Record<1 | 3, OpAttr[]>;
  private readonly reshapeAttrs: OpAttr[];
  private readonly bitcastAttrs: OpAttr[];
  private readonly castAttrs: OpAttr[];

  constructor(binding: Binding) {
    this.b = binding;
    this.version = `libjpeg-turbo via TensorFlow ${binding.TF_Version ?? 'unknown'}`;
    const decode = (channels: number): OpAttr[] => [
      { name: 'channels', type: binding.TF_ATTR_INT, value: channels },
      { name: 'ratio', type: binding.TF_ATTR_INT, value: 1 },
      { name: 'fancy_upscaling', type: binding.TF_ATTR_BOOL, value: true },
      { name: 'try_recover_truncated', type: binding.TF_ATTR_BOOL, value: false },
      { name: 'acceptable_fraction', type: binding.TF_ATTR_FLOAT, value: 1 },
      // '' = libjpeg's default, the accurate integer IDCT (JDCT_ISLOW)
      { name: 'dct_method', type: binding.TF_ATTR_STRING, value: '' },
    ];
    this.decodeAttrs = { 1: decode(1), 3: decode(3) };
    const type = (name: string, value: number): OpAttr => ({ name, type: binding.TF_ATTR_TYPE, value });
    this.reshapeAttrs = [type('T', binding.TF_UINT8), type('Tshape', binding.TF_INT32)];
    this.bitcastAttrs = [type('T', binding.TF_UINT8), type('type', binding.TF_INT32)];
    this.castAttrs = [
      type('SrcT', binding.TF_UINT8),
      type('DstT', binding.TF_INT32),
      { name: 'Truncate', type: binding.TF_ATTR_BOOL, value: false },
    ];
  }

  /**
   * Decodes a JPEG (or the `window` of it) to luma (channels 1) or RGB (channels 3). Throws the
   * decoder's message for corrupt or truncated data.
   */
  decode(jpeg: Uint8Array, channels: 1 | 3, window?: Window): NativeImage {
    const b = this.b;
    const inputs = [b.createTensor([], b.TF_STRING, [jpeg])];
    let out: TensorMeta;
    try {
      if (window)
        inputs.push(
          b.createTensor([4], b.TF_INT32, Int32Array.of(window.top, window.left, window.height, window.width)),
        );
      [out] = b.executeOp(window ? 'DecodeAndCropJpeg' : 'DecodeJpeg', this.decodeAttrs[channels], inputs, 1);
    } finally {
      for (const id of inputs) b.deleteTensor(id);
    }
    const [height, width] = out.shape;
    return { data: this.readUint8(out, height * width * channels), width, height, channels };
  }

  /**
   * Runs every op this decoder uses once, in this thread. tfjs-node's addon keeps one process-wide
   * std::set of attribute names, inserted into without a lock on every op it executes; two threads
   * inserting a new name at once corrupt it, and the process crashes later, on whichever thread
   * next touches the set. Called on the main thread before worker threads start decoding, every
   * name the workers use is already there, so they only read.
   */
  primeAttributeNames(): void {
    const jpeg = Buffer.from(PRIMING_JPEG, 'base64');
    this.decode(jpeg, 3); // DecodeJpeg, then Reshape + Bitcast (12 bytes)
    this.decode(jpeg, 1, { left: 0, top: 0, width: 1, height: 1 }); // DecodeAndCropJpeg, then Cast (1 byte)
  }

  /**
   * The addon reads back float/int32/bool tensors only: reinterpret the bytes as int32 (Reshape +
   * Bitcast share the buffer, so the only copy is the one into JavaScript), or cast when the size is
   * not a multiple of 4.
   */
  private readUint8(tensor: TensorMeta, n: number): Uint8Array {
    const b = this.b;
    const owned = [tensor.id];
    try {
      if (n % 4 === 0 && n > 0) {
        const shape = b.createTensor([2], b.TF_INT32, Int32Array.of(n / 4, 4));
        owned.push(shape);
        const [reshaped] = b.executeOp('Reshape', this.reshapeAttrs, [tensor.id, shape], 1);
        owned.push(reshaped.id);
        const [words] = b.executeOp('Bitcast', this.bitcastAttrs, [reshaped.id], 1);
        owned.push(words.id);
        const view = b.tensorDataSync(words.id);
        return new Uint8Array(view.buffer, view.byteOffset, n);
      }
      const [wide] = b.executeOp('Cast', this.castAttrs, [tensor.id], 1);
      owned.push(wide.id);
      const values = b.tensorDataSync(wide.id) as Int32Array;
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = values[i];
      return out;
    } finally {
      for (const id of owned) b.deleteTensor(id);
    }
  }
}

/** A 2×2 grey JPEG. */
const PRIMING_JPEG =
  '/9j/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/' +
  '2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAAR' +
  'CAACAAIDASIAAhEBAxEB/8QAFAABAAAAAAAAAAAAAAAAAAAAAP/EABQQAQAAAAAAAAAAAAAAAAAAAAD/xAAUAQEAAAAAAAAA' +
  'AAAAAAAAAAAA/8QAFBEBAAAAAAAAAAAAAAAAAAAAAP/aAAwDAQACEQMRAD8AAA//2Q==';

let loaded: { jpeg: NativeJpeg } | { error: string } | undefined;

/**
 * The native decoder, loaded once per thread, or null when tfjs-node's addon is not installed or
 * does not load (GZH_SKIP_NATIVE=1 also disables it). `nativeJpegError()` says why.
 */
export function nativeJpeg(): NativeJpeg | null {
  loaded ??= load();
  return 'jpeg' in loaded ? loaded.jpeg : null;
}

export function nativeJpegError(): string | null {
  loaded ??= load();
  return 'error' in loaded ? loaded.error : null;
}

/**
 * The addon's path as tfjs-node itself finds it (lib/napi-v<N>/tfjs_binding.node, N the highest
 * N-API version it was built for that this Node supports), worked out from its package.json
 * directly: loading @mapbox/node-pre-gyp to ask costs about 0.1 s of CPU in every worker thread.
 * Falls back to node-pre-gyp when the file is not where expected.
 */
function addonPath(pkg: string, fromPkg: NodeJS.Require): string {
  const binary = (fromPkg(pkg) as { binary?: { module_name?: string; module_path?: string; napi_versions?: number[] } })
    .binary;
  const napi = Number(process.versions.napi);
  const version = Math.max(-1, ...(binary?.napi_versions ?? []).filter((v) => v <= napi));
  if (binary?.module_name && binary.module_path && version >= 0) {
    const path = join(
      dirname(pkg),
      binary.module_path.replace('{napi_build_version}', String(version)),
      `${binary.module_name}.node`,
    );
    if (existsSync(path)) return path;
  }
  const { find } = fromPkg('@mapbox/node-pre-gyp') as { find(packageJson: string): string };
  return find(pkg);
}

function load(): { jpeg: NativeJpeg } | { error: string } {
  if (process.env.GZH_SKIP_NATIVE === '1') return { error: 'GZH_SKIP_NATIVE=1' };
  try {
    // keep TensorFlow's C++ start-up chatter off the terminal (as src/backend/native.ts does)
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('@tensorflow/tfjs-node/package.json');
    const fromPkg = createRequire(pkg);
    const binding = fromPkg(addonPath(pkg, fromPkg)) as Binding;
    if (typeof binding.executeOp !== 'function' || typeof binding.tensorDataSync !== 'function') {
      return { error: 'tfjs-node addon has an unexpected interface' };
    }
    return { jpeg: new NativeJpeg(binding) };
  } catch (error) {
    return { error: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}
