/** What the experiments share: issue 13's four optimizers with the bench's hyper-parameters, a bench tree as plain ndarrays, orThrow. */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { adam, adamw, lars, sgd, type GradientTransformation, type Tree } from "../../src/index.js";
import { buildTree, type TreeId } from "../trees.js";

/** sgd momentum 0.9, weight decay 5e-4, lr 0.1; adam lr 1e-3; adamw lr 1e-3, weight decay 0.01; lars as sgd. */
export const OPTIMIZERS: { readonly [name: string]: () => GradientTransformation<any> } = {
  sgd: () => sgd({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
  adam: () => adam({ lr: 1e-3 }),
  adamw: () => adamw({ lr: 1e-3, weightDecay: 0.01 }),
  lars: () => lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
};

/** The Right, or a thrown Error with the Left's message (experiments stop at the first failure). */
export const orThrow = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

/** A bench tree, and a maker of plain trees (fresh copies of its arrays) of its structure. */
export const benchTree = (id: TreeId) => {
  const tree = buildTree(id);
  const treeOf = (arrays: readonly Float32Array[]): Tree =>
    Object.fromEntries(tree.leaves.map((l, i) => [l.name, ndarray(arrays[i]!.slice(), [...l.shape])]));
  return { tree, treeOf };
};
