export * from './galaxy.js';
export * from './kaggle-layout.js';
export * from './morphology.js';
export * from './render.js';
export * from './volunteers.js';
export * from './writer.js';
