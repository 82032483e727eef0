/**
 * larch's own LARS step on the benchmark trees, through its JavaScript paths: `update` + `applyUpdates` with the
 * fused chain that `lars()` is, the same four transformations run member by member (`chainUnfused`), and
 * `applyStep` (update and apply in one pass per leaf) on that chain without lars()'s compiled kernel, pure and
 * with donation: the generic path every elementwise chain takes. The kernel's rows are in larch-wasm.ts.
 */
import ndarray from "ndarray";
import * as E from "fp-ts/lib/Either.js";
import {
  addWeightDecay,
  applyStep,
  applyUpdates,
  chain,
  chainUnfused,
  lars,
  scaleByLr,
  scaleByTrustRatio,
  traceMomentum,
  type GradientTransformation,
  type Leaf,
  type Tree,
} from "../../src/index.js";
import type { Peer } from "../peer.js";
import type { BenchTree, TreeId } from "../trees.js";
import { DAMPENING, LR, MOMENTUM, WEIGHT_DECAY } from "./hyperparams.js";

/** The benchmark tree as larch trees: a record of ndarrays named after the leaves (params copied, so they are the row's own). */
const larchTrees = (tree: BenchTree): { params: Tree; grads: Tree } => {
  const record = (arrays: readonly Float32Array[], copy: boolean) =>
    Object.fromEntries(tree.leaves.map((l, i) => [l.name, ndarray(copy ? arrays[i]!.slice() : arrays[i]!, [...l.shape]) as Leaf]));
  return { params: record(tree.params, true), grads: record(tree.grads, false) };
};

const options = { lr: LR, momentum: MOMENTUM, dampening: DAMPENING, weightDecay: WEIGHT_DECAY };
const fusedLars = (): GradientTransformation<any> => lars(options);
const members = () =>
  [
    addWeightDecay(WEIGHT_DECAY),
    traceMomentum({ momentum: MOMENTUM, dampening: DAMPENING }),
    scaleByTrustRatio({ weightDecay: WEIGHT_DECAY }),
    scaleByLr(LR),
  ] as const;
/** lars()'s chain as a plain chain: fused, but without the compiled kernel lars() attaches. */
const genericLars = (): GradientTransformation<any> => chain(...members());
const unfusedLars = (): GradientTransformation<any> => chainUnfused(...members());

const orThrow = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

type Path = "update" | "applyStep" | "donated";

const larchPeer = (name: string, description: string, make: () => GradientTransformation<any>, path: Path, trees: readonly TreeId[]): Peer => ({
  name,
  description,
  trees,
  ...(trees.includes("resnet50x10") ? {} : { notOn: { resnet50x10: "not run: seconds a step on 256 M values" } }),
  async setup(tree) {
    const opt = make();
    const start = larchTrees(tree);
    let params = start.params;
    let state = orThrow(opt.init(params));
    const grads = start.grads;
    return {
      kind: "step",
      step() {
        if (path === "update") {
          const [updates, next] = orThrow(opt.update(grads, state, params));
          params = orThrow(applyUpdates(params, updates));
          state = next;
        } else [params, state] = orThrow(applyStep(opt, grads, state, params, { donate: path === "donated" }));
      },
    };
  },
});

const SMALL: readonly TreeId[] = ["resnet50", "resnet50/10", "leaves1000"];
const ALL: readonly TreeId[] = [...SMALL, "resnet50x10"];

export const larchPeers: readonly Peer[] = [
  larchPeer("larch lars(): update + applyUpdates", "the fused chain's update (one pass per leaf), then applyUpdates: two passes, new updates, params and state", fusedLars, "update", SMALL),
  larchPeer("larch chainUnfused: update + applyUpdates", "the same four transformations run member by member, each materialising its updates (the reference path)", unfusedLars, "update", SMALL),
  larchPeer("larch applyStep, generic JS path, pure", "lars()'s chain without its kernel: update and apply in one JS pass per leaf; allocates the new params and state only", genericLars, "applyStep", ALL),
  larchPeer("larch applyStep, generic JS path, donated", "as above, with the old params and state handed over: writes into their storage", genericLars, "donated", ALL),
];
