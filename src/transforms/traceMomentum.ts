/**
 * Momentum in PyTorch's form (the seed's momentum buffer).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError } from "../core/errors.js";
import { aBoolean, aNumber, optional, readOptions, required } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Tree } from "../core/tree.js";
import { registerBuilder } from "../core/builders.js";

/** Options of {@link traceMomentum}. */
export interface TraceMomentumOptions {
  /** m ≥ 0; with m = 0 the transformation is the identity and keeps no buffer. */
  readonly momentum: number;
  /** d, applied from the second step on (default 0). */
  readonly dampening?: number;
  /** Output u + m·b instead of b (default false; needs m > 0 and d = 0). */
  readonly nesterov?: boolean;
}

/** State of {@link traceMomentum}: steps taken, and the buffer b (null when m = 0). */
export interface TraceMomentumState {
  readonly kind: "traceMomentum";
  readonly count: number;
  readonly trace: Tree | null;
}

/**
 * PyTorch's momentum: on the first step b ← u, afterwards b ← m·b + (1 − d)·u;
 * the output is b, or u + m·b with Nesterov. The buffer is stored in the leaf's dtype.
 * @example
 * const momentum = traceMomentum({ momentum: 0.9 });
 */
export const traceMomentum = (options: TraceMomentumOptions): GradientTransformation<TraceMomentumState> => {
  const name = "traceMomentum";
  const o = readOptions(name, options, { momentum: required(aNumber), dampening: optional(aNumber, 0), nesterov: optional(aBoolean, false) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const { momentum: m, dampening, nesterov } = o.right;
  const hyperparams = { momentum: m, dampening, nesterov };
  const invalid = (message: string) => failing<TraceMomentumState>(name, hyperparams, optimizerError("InvalidOption", message));
  if (!(Number.isFinite(m) && m >= 0)) return invalid(`Invalid momentum value: ${m} (must be finite and >= 0)`);
  if (!Number.isFinite(dampening)) return invalid(`Invalid dampening value: ${dampening} (must be finite)`);
  if (nesterov && (m <= 0 || dampening !== 0)) return invalid("Nesterov momentum requires a momentum and zero dampening");
  const c = 1 - dampening;
  const out = nesterov ? "u + m * trace'" : "trace'"; // u′ = u + m·b with Nesterov, else b
  return defineElementwise<TraceMomentumState>({
    name,
    hyperparams,
    state: { kind: "traceMomentum", count: true, trees: { trace: m !== 0 } },
    bodies: m === 0 ? {} : {
      first: { trace: "u", u: out }, // b ← u
      later: { trace: "m * trace + c * u", u: out }, // b ← m·b + (1 − d)·u
    },
    step: (t) => E.right({ body: m === 0 ? null : t === 0 ? "first" : "later", scalars: { m, c } }),
  });
};

registerBuilder("traceMomentum", traceMomentum);
