export * from './losses.js';
export * from './metrics.js';
export * from './memory-source.js';
export * from './hooks.js';
export * from './evaluate.js';
export * from './learning-rate.js';
export * from './trainer.js';
export * from './callbacks/index.js';
// for src/experiments/runner.ts, which imports these through this barrel
export { forward, imagesToTensor, modelView } from '../models/forward.js';
