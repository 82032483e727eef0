/**
 * The HTML report of a recording: its per-step numbers turned into the report's data, then rendered. The same
 * code path serves `larch report` and the iris example.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import type { HyperValue } from "../core/transform.js";
import type { ReportData, HyperValue as ReportValue } from "../report/report-data.js";
import { renderReport } from "../report/render.js";
import type { Recording } from "../timetravel/recordingReader.js";
import { isPlainRecord } from "../timetravel/stateValue.js";

/** A short name of an optimizer spec: `lars`, `chain(traceMomentum, scaleByLr)`, `partition(decay: lars, noDecay: lars)`. */
export const optimizerName = (spec: HyperValue): string => {
  if (!isPlainRecord(spec) || typeof spec["name"] !== "string") return "unknown";
  const h = isPlainRecord(spec["hyperparams"]) ? spec["hyperparams"] : {};
  if (spec["name"] === "chain" && Array.isArray(h["members"])) return `chain(${(h["members"] as HyperValue[]).map(optimizerName).join(", ")})`;
  if (spec["name"] === "partition" && isPlainRecord(h["transforms"]))
    return `partition(${Object.entries(h["transforms"]).map(([label, t]) => `${label}: ${optimizerName(t as HyperValue)}`).join(", ")})`;
  return spec["name"];
};

/**
 * The hyper-parameters of a spec as flat dotted keys: a chain's (or lars's) members' parameters side by side
 * (`momentum`, `lr.init`), a partition's under their labels (`decay.weightDecay`).
 */
export const flatHyperparams = (spec: HyperValue, prefix = "", out: Record<string, ReportValue> = {}): Record<string, ReportValue> => {
  if (!isPlainRecord(spec)) return out;
  const h = isPlainRecord(spec["hyperparams"]) ? (spec["hyperparams"] as Record<string, HyperValue>) : {};
  const put = (key: string, v: HyperValue): void => {
    if (isPlainRecord(v)) for (const [k, x] of Object.entries(v)) put(`${key}.${k}`, x as HyperValue);
    else out[prefix + key] = Array.isArray(v) ? JSON.stringify(v) : (v as ReportValue);
  };
  if (Array.isArray(h["members"])) for (const m of h["members"] as HyperValue[]) flatHyperparams(m, prefix, out);
  else if (spec["name"] === "partition" && isPlainRecord(h["transforms"]))
    for (const [label, t] of Object.entries(h["transforms"])) flatHyperparams(t as HyperValue, `${prefix}${label}.`, out);
  else for (const [k, v] of Object.entries(h)) put(k, v);
  return out;
};

/**
 * Which leaves each label of a partition routes, as `label.leaves` → "fc1.weight, fc2.weight", read from the
 * labels the partition keeps in its state (the branch's first keyframe); nothing for other optimizers.
 */
const partitionGroups = (rec: Recording, branch: number, first: number | undefined): Record<string, ReportValue> => {
  const spec = rec.branches.get(branch)?.optimizer;
  if (spec?.["name"] !== "partition" || first === undefined) return {};
  const kf = rec.keyframe(branch, first);
  const labels = E.isRight(kf) && isPlainRecord(kf.right.state) ? (kf.right.state as { labels?: unknown }).labels : undefined;
  if (!isPlainRecord(labels)) return {};
  const groups: Record<string, string[]> = {};
  for (const [path, label] of Object.entries(labels)) (groups[String(label)] ??= []).push(path);
  return Object.fromEntries(Object.entries(groups).map(([label, paths]) => [`${label}.leaves`, paths.join(", ")]));
};

/** The report's data for one branch of a recording (default the main run): its header, leaves and every step's numbers. */
export const reportData = (rec: Recording, branch = 0): E.Either<OptimizerError, ReportData> => {
  const info = rec.branches.get(branch);
  if (info === undefined) return E.left(optimizerError("InvalidOption", `${rec.path} has no branch ${branch}`));
  const steps = rec.steps(branch);
  if (E.isLeft(steps)) return steps;
  const meta = isPlainRecord(rec.header.meta) ? rec.header.meta : {};
  const title = typeof meta["title"] === "string" ? meta["title"] : basename(rec.path);
  return E.right({
    version: 1,
    run: {
      title: branch === 0 ? title : `${title} · branch ${branch} (from step ${info.forkStep})`,
      optimizer: optimizerName(info.optimizer),
      hyperparams: {
        ...partitionGroups(rec, branch, info.keyframeSteps[0]),
        ...flatHyperparams(info.optimizer),
        keyframeEvery: info.keyframeEvery,
        recordGrads: info.recordGrads,
      },
    },
    leaves: rec.header.leaves.map((l) => ({ path: l.path, shape: [...l.shape], dtype: l.dtype })),
    steps: steps.right.map((s) => ({ step: s.step, loss: s.loss, accuracy: s.accuracy, lr: s.lr ?? NaN, leaves: s.leaves })),
  });
};

/** Renders the report of a recording's branch into the HTML file `out` (its folder is created). */
export const writeReport = (rec: Recording, out: string, branch = 0): E.Either<OptimizerError, { readonly bytes: number }> => {
  const data = reportData(rec, branch);
  if (E.isLeft(data)) return data;
  const html = renderReport(data.right);
  if (E.isLeft(html)) return E.left(optimizerError("InvalidOption", `cannot render the report: ${html.left.message}`));
  try {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, html.right);
  } catch (e) {
    return E.left(optimizerError("InvalidOption", `cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`));
  }
  return E.right({ bytes: Buffer.byteLength(html.right) });
};
