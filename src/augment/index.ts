export * from './d4.js';
export * from './affine.js';
export * from './config.js';
export * from './photometric.js';
export * from './augmenter.js';
