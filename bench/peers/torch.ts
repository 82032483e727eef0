/**
 * The seed itself, in PyTorch on the CPU, in place: ../shared/bench/torch_lars_step.py run by the first python3
 * that imports torch (/usr/bin/python3 first: Debian's python3-torch). Skipped, with the reason, when none does.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Peer } from "../peer.js";
import { sharedBenchFile } from "../shared-files.js";
import type { BenchTree } from "../trees.js";

const CANDIDATES = ["/usr/bin/python3", "python3", "python"];

/** The first python that imports torch, or the reasons each candidate failed. */
export function findTorchPython(): { python: string } | { reasons: string[] } {
  const reasons: string[] = [];
  for (const python of CANDIDATES) {
    const r = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
    if (r.status === 0) return { python };
    const why = r.error !== undefined ? r.error.message : (r.stderr.trim().split("\n").pop() ?? `exit ${r.status}`);
    reasons.push(`${python}: ${why}`);
  }
  return { reasons };
}

/** Runs the shared script under runpy, then prints the process's peak RSS (KiB on Linux) as a second line. */
const WRAPPER = [
  "import json, resource, runpy, sys",
  "sys.argv = sys.argv[1:]",
  "runpy.run_path(sys.argv[0], run_name='__main__')",
  "print(json.dumps({'maxrss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))",
].join("\n");

function shapesFile(tree: BenchTree): string {
  const dir = mkdtempSync(join(tmpdir(), "larch-bench-"));
  const file = join(dir, `${tree.id.replace("/", "_")}.json`);
  writeFileSync(file, JSON.stringify({
    model: tree.id, tensors: tree.leaves.length, values: tree.values,
    shapes: tree.leaves.map((l) => ({ name: l.name, shape: l.shape })),
  }));
  return file;
}

export const torchSeed: Peer = {
  name: "PyTorch seed step, in place",
  description: "holocron's LARS.step() in PyTorch (CPU, its own thread count), grads re-cloned untimed",
  trees: ["resnet50", "resnet50/10", "resnet50x10", "leaves1000"],
  steps: 10,
  async setup(tree) {
    const found = findTorchPython();
    if ("reasons" in found) return { kind: "skipped", reason: `no python3 with torch (${found.reasons.join("; ")})` };
    let script: string;
    try {
      script = sharedBenchFile("torch_lars_step.py");
    } catch (e) {
      return { kind: "skipped", reason: (e as Error).message };
    }
    const r = spawnSync(found.python, ["-c", WRAPPER, script, shapesFile(tree), "10"], {
      encoding: "utf8", maxBuffer: 1 << 20,
    });
    const lines = r.stdout.trim().split("\n");
    if (r.status !== 0 || lines.length < 2) {
      return { kind: "skipped", reason: `torch script failed: ${r.stderr.trim().split("\n").pop() ?? r.status}` };
    }
    const out = JSON.parse(lines[lines.length - 2]!) as {
      torch: string; threads: number; step_ms_median: number; step_ms_min: number; copy_ms_median: number;
    };
    const rss = JSON.parse(lines[lines.length - 1]!) as { maxrss_kib: number };
    return {
      kind: "external",
      result: {
        medianMs: out.step_ms_median, minMs: out.step_ms_min, steps: 10, peakRssBytes: rss.maxrss_kib * 1024,
        note: `torch ${out.torch}, ${out.threads} thread(s), ${found.python}; its copy of the same values: ${out.copy_ms_median.toFixed(2)} ms`,
      },
    };
  },
};
