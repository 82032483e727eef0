/**
 * Child process of bench/run.ts: measures one peer on one tree in a fresh process (so that peak RSS and the
 * JIT state belong to that row alone) and prints one JSON line: a RowResult.
 * Usage: tsx bench/row.ts PEER_NAME TREE_ID
 */
import { timeSteps, timeStepsSteady } from "./measure.js";
import { PEERS } from "./peers/index.js";
import type { RowResult } from "./row-result.js";
import { TREE_IDS, buildTree, type TreeId } from "./trees.js";

/**
 * Batches of 50 steps a steady row measures (unless its peer says): 40, 2000 steps in all, so that a row's median
 * holds still on a machine other processes share (with 10 batches, the 1000-leaf adam, adamw and lars rows moved by
 * 20-40% between two runs of the same code).
 */
const STEADY_SAMPLES = 40;

async function measureRow(peerName: string, treeId: TreeId): Promise<RowResult> {
  const peer = PEERS.find((p) => p.name === peerName);
  if (peer === undefined) throw new Error(`no peer named ${peerName}`);
  const tree = buildTree(treeId);
  const base = { peer: peer.name, tree: treeId, values: tree.values, leaves: tree.leaves.length };
  const setup = await peer.setup(tree);
  switch (setup.kind) {
    case "skipped":
      return { ...base, status: "skipped", reason: setup.reason };
    case "external":
      return { ...base, status: "ok", ...setup.result, maxMs: setup.result.maxMs ?? null,
        allocatedBytesPerStep: null, peakRssBytes: setup.result.peakRssBytes ?? null, note: setup.result.note ?? null };
    case "step": {
      // a tree of many small leaves measures per-call overhead: steady state, batches of back-to-back steps; otherwise
      // each step alone after a GC (one warm-up step is plenty when a step moves gigabytes, the 10x tree)
      const warmup = tree.values > 1e8 ? Math.min(1, peer.warmup ?? 3) : (peer.warmup ?? 3);
      const stats = tree.values < 1e6 && tree.leaves.length > 100
        ? await timeStepsSteady(() => setup.step(), { warmupMs: 1500, batch: 50, samples: peer.steps ?? STEADY_SAMPLES })
        : await timeSteps(() => setup.step(), peer.steps ?? 10, warmup);
      await setup.teardown?.();
      return { ...base, status: "ok", ...stats, peakRssBytes: process.resourceUsage().maxRSS * 1024,
        note: setup.note ?? null };
    }
  }
}

const [peerName, treeId] = process.argv.slice(2);
if (peerName === undefined || !TREE_IDS.includes(treeId as TreeId)) {
  console.error(`usage: tsx bench/row.ts PEER_NAME TREE_ID (${TREE_IDS.join(", ")})`);
  process.exit(2);
}
measureRow(peerName, treeId as TreeId).then(
  (r) => {
    process.stdout.write("\n" + JSON.stringify(r) + "\n");
    process.exit(0);
  },
  (e: unknown) => {
    const base = { peer: peerName, tree: treeId as TreeId, values: 0, leaves: 0 };
    process.stdout.write("\n" + JSON.stringify({ ...base, status: "failed", reason: String(e) }) + "\n");
    process.exit(1);
  },
);
