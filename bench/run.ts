/**
 * `npm run bench [-- --json FILE] [--trees id,id] [--only REGEX]`: every peer of peers/index.ts on every tree it
 * supports, each row in its own process, then a table per tree (medians, ratios to the reference peers) and,
 * with --json, all numbers including each row's ratio to every other row of its tree.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { PEERS } from "./peers/index.js";
import type { RowResult } from "./row-result.js";
import { formatTables, ratiosTo } from "./table.js";
import { TREE_IDS, type TreeId } from "./trees.js";

interface Options {
  json?: string;
  trees: TreeId[];
  only?: RegExp;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { trees: [...TREE_IDS] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === "--json" && value !== undefined) { options.json = value; i++; }
    else if (arg === "--trees" && value !== undefined) {
      const wanted = value.split(",");
      const bad = wanted.filter((t) => !TREE_IDS.includes(t as TreeId));
      if (bad.length > 0) throw new Error(`unknown tree(s) ${bad.join(", ")}; known: ${TREE_IDS.join(", ")}`);
      options.trees = wanted as TreeId[];
      i++;
    } else if (arg === "--only" && value !== undefined) { options.only = new RegExp(value, "i"); i++; }
    else throw new Error(`unknown argument ${arg}; usage: npm run bench -- [--json FILE] [--trees ids] [--only REGEX]`);
  }
  return options;
}

const ROW_SCRIPT = fileURLToPath(new URL("./row.ts", import.meta.url));

function runRow(peer: string, tree: TreeId): RowResult {
  const r = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", ROW_SCRIPT, peer, tree], {
    encoding: "utf8", maxBuffer: 16 << 20, stdio: ["ignore", "pipe", "inherit"],
  });
  const last = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as RowResult;
  } catch {
    return { peer, tree, values: 0, leaves: 0, status: "failed", reason: `row process exit ${r.status}: ${last.slice(0, 200)}` };
  }
}

const options = parseArgs(process.argv.slice(2));
const started = performance.now();
const loadBefore = loadavg()[0]!;
const rows: RowResult[] = [];
for (const tree of options.trees) {
  for (const peer of PEERS) {
    if (options.only !== undefined && !options.only.test(peer.name)) continue;
    if (!peer.trees.includes(tree)) {
      const reason = peer.notOn?.[tree];
      if (reason !== undefined) rows.push({ peer: peer.name, tree, values: 0, leaves: 0, status: "skipped", reason });
      continue;
    }
    process.stderr.write(`  ${tree.padEnd(12)} ${peer.name} ...`);
    const t0 = performance.now();
    const row = runRow(peer.name, tree);
    process.stderr.write(` ${row.status === "ok" ? `${row.medianMs.toFixed(2)} ms` : row.status} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    rows.push(row);
  }
}
const load = `load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (other processes share the cores)`;
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}; ${load}`;
console.log(formatTables(rows, machine));
console.log(`\nwhole run: ${((performance.now() - started) / 1000).toFixed(0)} s`);
if (options.json !== undefined) {
  const withRatios = rows.map((r) => (r.status === "ok" ? { ...r, ratios: ratiosTo(r, rows) } : r));
  writeFileSync(options.json, JSON.stringify({ machine, date: new Date().toISOString(), rows: withRatios }, null, 2) + "\n");
  console.log(`wrote ${options.json}`);
}
