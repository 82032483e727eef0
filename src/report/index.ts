/**
 * The HTML report of a training run: {@link renderReport} turns {@link ReportData} into one self-contained page.
 * @module
 */
export type { HyperValue, LeafStepStats, ReportData, ReportError, ReportLeaf, ReportRun, ReportStep } from "./report-data.js";
export { renderReport, renderReportHtml } from "./render.js";
export { validateReportData } from "./validate.js";
export { loadReportAssets, type ReportAssets } from "./assets.js";
