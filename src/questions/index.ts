export * from './tree.js';
export * from './conventions.js';
export * from './validate.js';
