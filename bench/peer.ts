/**
 * A benchmark row: a named way of doing one optimizer step on a BenchTree. Adding a row is adding one Peer to
 * the registry in peers/index.ts: `setup` prepares everything outside the timing, `step` is what is timed.
 */
import type { BenchTree, TreeId } from "./trees.js";

/** What a peer's setup returns: a step to time, numbers measured elsewhere (another process), or a skip. */
export type PeerSetup =
  | {
      readonly kind: "step";
      /** a remark printed under the table (e.g. which flavour of a backend ran) */
      readonly note?: string;
      step(): void | Promise<void>;
      teardown?(): void | Promise<void>;
    }
  | { readonly kind: "external"; readonly result: ExternalResult }
  | { readonly kind: "skipped"; readonly reason: string };

/** Timings a peer measured itself (e.g. the PyTorch script). */
export interface ExternalResult {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs?: number;
  readonly steps: number;
  readonly peakRssBytes?: number;
  readonly note?: string;
}

export interface Peer {
  /** Row name in the table, unique. */
  readonly name: string;
  /** One line saying what the row measures. */
  readonly description: string;
  /** Trees this peer runs on (others are not attempted), with an optional reason for the ones left out. */
  readonly trees: readonly TreeId[];
  /** Why it does not run on some of the other trees (shown in the table). */
  readonly notOn?: Partial<Record<TreeId, string>>;
  /** Measured steps after warm-up (default 10) and warm-up steps (default 3). */
  readonly steps?: number;
  readonly warmup?: number;
  setup(tree: BenchTree): Promise<PeerSetup>;
}
