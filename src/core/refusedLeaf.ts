/**
 * A refused leaf: what a leaf helper ({@link leafOf}, {@link copyLeaf}) returns for arguments it cannot make a leaf
 * of, instead of throwing. It is an empty float64 view carrying why; every tree function (flatten, and so every
 * step) refuses it as an InvalidTree Left with that reason, as {@link refusedSchedule} carries its factory's.
 * Not exported from larch: only the leaf helpers make one, and only tree.ts reads the reason.
 * @module
 */

const REFUSED: unique symbol = Symbol("larch.refusedLeaf");

/** A frozen leaf-shaped value that no tree function accepts; `why` says what was wrong with the arguments. */
export const refusedLeaf = <L>(why: string): L =>
  Object.freeze({ data: new Float64Array(0), shape: Object.freeze([0]), stride: Object.freeze([1]), offset: 0, [REFUSED]: why }) as unknown as L;

/** Why a value is a refused leaf, or undefined for any other value. */
export const refusalOf = (x: object): string | undefined =>
  Object.prototype.hasOwnProperty.call(x, REFUSED) ? (x as { [REFUSED]: string })[REFUSED] : undefined;
