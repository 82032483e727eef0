/**
 * A seeded, stratified train/held-out split of labelled rows: every class keeps its share of the held-out set,
 * and the same seed gives the same split on every machine.
 * @module
 */
import { type Random, shuffled } from "./prng.js";

/**
 * How many rows of each class go to the held-out set so that they total exactly `heldOut` (largest remainders):
 * class c of n_c rows (N in all) has the quota q_c = heldOut · n_c / N; it gets ⌊q_c⌋, and the rows still missing
 * go one each to the classes with the largest q_c − ⌊q_c⌋ (ties to the smaller label).
 * Keys are the labels in ascending order.
 */
export const heldOutCounts = (classSizes: ReadonlyMap<number, number>, heldOut: number): Map<number, number> => {
  const labels = [...classSizes.keys()].sort((a, b) => a - b);
  const total = labels.reduce((sum, label) => sum + (classSizes.get(label) ?? 0), 0);
  const quota = (label: number) => (total === 0 ? 0 : (heldOut * (classSizes.get(label) ?? 0)) / total);
  const counts = new Map(labels.map((label) => [label, Math.floor(quota(label))]));
  const missing = heldOut - [...counts.values()].reduce((a, b) => a + b, 0);
  const byRemainder = labels
    .map((label) => ({ label, remainder: quota(label) - Math.floor(quota(label)) }))
    .sort((a, b) => b.remainder - a.remainder || a.label - b.label);
  for (const { label } of byRemainder.slice(0, missing)) counts.set(label, (counts.get(label) ?? 0) + 1);
  return counts;
};

/**
 * Stratified split of row indices 0 … n−1 by their `labels`: within each class (ascending label), a seeded
 * shuffle of its rows; its first {@link heldOutCounts} rows are held out, the rest train. Each set is then
 * shuffled again so that classes are interleaved. Returns [trainIndices, heldOutIndices]; `heldOut` is clamped
 * to [0, n].
 */
export const stratifiedSplit = (labels: readonly number[], heldOut: number, random: Random): [number[], number[]] => {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const rows = byClass.get(label);
    if (rows) rows.push(i);
    else byClass.set(label, [i]);
  });
  const target = Math.max(0, Math.min(labels.length, Math.round(heldOut)));
  const counts = heldOutCounts(new Map([...byClass].map(([label, rows]) => [label, rows.length])), target);
  const train: number[] = [];
  const test: number[] = [];
  for (const [label, count] of counts) {
    const rows = shuffled(byClass.get(label) ?? [], random);
    test.push(...rows.slice(0, count));
    train.push(...rows.slice(count));
  }
  return [shuffled(train, random), shuffled(test, random)];
};
