export * from './types.js';
export * from './early-stopping.js';
export * from './lr-schedule.js';
export * from './reduce-on-plateau.js';
export * from './csv-logger.js';
export * from './checkpoint.js';
export * from './callback-list.js';
