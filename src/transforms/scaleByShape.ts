/**
 * Muon's width scaling of an orthogonalised update, from the weight's shape.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { optimizerError, showPath } from "../core/errors.js";
import type { GradientTransformation } from "../core/transform.js";

/** State of {@link scaleByShape}: nothing but its tag. */
export interface ScaleByShapeState {
  readonly kind: "scaleByShape";
}

/**
 * u ← √max(1, fan_out / fan_in)·u per leaf (optax's `contrib.scale_by_shape`, its width scaling), with the fans
 * read in PyTorch's layout, larch's: a weight is [out, in, …], so fan_out = shape[0] and fan_in = the product of
 * the other extents (in·kh·kw for a conv weight, as PyTorch counts it). optax's muon reads a 2-D weight as
 * [in, out] (x·W); the same matrix stored transposed gets the same factor, so the two agree on every layer.
 * A leaf of rank below 2 is a ShapeMismatch Left naming it. Elementwise, with a per-leaf scalar: chains fuse it.
 * @example
 * scaleByShape() // a [1024, 256] weight's update times 2, a [256, 1024] one's times 1
 */
export const scaleByShape = (): GradientTransformation<ScaleByShapeState> =>
  defineElementwise<ScaleByShapeState>({
    name: "scaleByShape",
    hyperparams: { layout: "[out, in]" },
    state: { kind: "scaleByShape" },
    bodies: { scale: { u: "s * u" } },
    step: () =>
      E.right({
        body: "scale",
        leaf: ({ shape, path }) => {
          if (shape.length < 2)
            return E.left(optimizerError("ShapeMismatch", `scaleByShape scales weights of rank >= 2: the leaf ${showPath(path)} has shape [${shape.join(", ")}]`, { path }));
          const fanOut = shape[0]!;
          const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
          return E.right({ s: Math.sqrt(Math.max(1, fanOut / fanIn)) });
        },
      }),
  });

registerBuilder("scaleByShape", scaleByShape);
