export * from './morphology.js';
export * from './render.js';
export * from './volunteers.js';
export * from './writer.js';
