export * from './types.js';
export { renderCharts, renderSvg, type ReportCharts } from './charts.js';
export { memberTables, renderHtml, renderMarkdown, renderTextSummary, topAnswers, writeReport, type ReportFiles } from './render.js';
