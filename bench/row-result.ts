/** One row of the benchmark: a peer measured on a tree. */
import type { TreeId } from "./trees.js";

interface RowBase {
  readonly peer: string;
  readonly tree: TreeId;
  readonly values: number;
  readonly leaves: number;
}

export type RowResult =
  | (RowBase & {
      readonly status: "ok";
      readonly steps: number;
      readonly medianMs: number;
      readonly minMs: number;
      readonly maxMs: number | null;
      readonly allocatedBytesPerStep: number | null;
      readonly peakRssBytes: number | null;
      readonly note: string | null;
    })
  | (RowBase & { readonly status: "skipped" | "failed"; readonly reason: string });
