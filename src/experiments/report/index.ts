export * from './types.js';
export { renderTextSummary, topAnswers, writeReport, type ReportFiles } from './render.js';
