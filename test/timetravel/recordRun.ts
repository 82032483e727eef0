/** Records a run of the test optimizers into a `*.larch` file. */
import * as E from "fp-ts/lib/Either.js";
import { applyUpdates, openRecording, type GradientTransformation, type RecordingOptions, type Tree } from "larch";
import { gradAt } from "./runs.js";

/** Records n steps of `opt` from `params0` with gradients {@link gradAt}; returns every point of the run. */
export const recordRun = (
  path: string,
  opt: GradientTransformation<any>,
  params0: Tree,
  n: number,
  options: RecordingOptions,
  grad: (params: Tree, t: number) => Tree = gradAt,
): { params: Tree; state: unknown }[] => {
  const rec = openRecording(path, opt, params0, options);
  if (E.isLeft(rec)) throw new Error(rec.left.message);
  const init = opt.init(params0);
  if (E.isLeft(init)) throw new Error(init.left.message);
  const points = [{ params: params0, state: init.right as unknown }];
  for (let t = 0; t < n; t++) {
    const { params, state } = points[t]!;
    const step = rec.right.step(grad(params, t), state, params, { loss: 1 / (t + 1), accuracy: t / n });
    if (E.isLeft(step)) throw new Error(step.left.message);
    const next = applyUpdates(params, step.right[0]);
    if (E.isLeft(next)) throw new Error(next.left.message);
    points.push({ params: next.right, state: step.right[1] });
  }
  const closed = rec.right.close();
  if (E.isLeft(closed)) throw new Error(closed.left.message);
  return points;
};
