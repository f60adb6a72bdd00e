export * from './answers.js';
export * from './project.js';
export * from './average.js';
export * from './tta.js';
export * from './ensemble-dir.js';
export * from './predictor.js';
export * from './kaggle.js';
