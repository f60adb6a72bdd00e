/** Reading and setting an optimizer's learning rate, which tfjs optimizers expose unevenly. */
import type * as tf from '@tensorflow/tfjs';

/** The optimizer's current learning rate (an error for optimizers without a numeric one). */
export function getLearningRate(optimizer: tf.Optimizer): number {
  const lr = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  if (typeof lr !== 'number') throw new Error(`${optimizer.getClassName()} has no numeric learningRate`);
  return lr;
}

/** Sets the learning rate the optimizer's next update uses. */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  if (!(lr > 0) || !Number.isFinite(lr)) throw new RangeError(`learning rate must be a positive number, got ${lr}`);
  getLearningRate(optimizer); // validates the optimizer has one
  // SGD and Momentum apply a cached scalar that only their own setLearningRate replaces.
  const own = (optimizer as unknown as { setLearningRate?: (lr: number) => void }).setLearningRate;
  if (typeof own === 'function') own.call(optimizer, lr);
  else (optimizer as unknown as { learningRate: number }).learningRate = lr;
}
