import * as tf from '@tensorflow/tfjs';

/** Runs `run` on backend `name` and returns the values of the tensor it makes (disposed). */
export async function onBackend(name: string, run: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(name);
  const t = run();
  const data = (await t.data()) as Float32Array;
  t.dispose();
  return data;
}
