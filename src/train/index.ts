export * from './losses.js';
export * from './metrics.js';
export * from './memory-source.js';
export * from './trainer.js';
export * from './callbacks/index.js';
