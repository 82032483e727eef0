/** The `larch` command (in-process, and once as a child process) on real recordings: a good one, a corrupted one, a cut-short one, a diverging one. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import { applyUpdates, decodeState, encodeState, mapTrees, leafOf, denseValues, allocate, dtypeOf, openRecording, type Tree } from "larch";
import { runCli } from "../../src/cli/run.js";
import { recordRun } from "../timetravel/recordRun.js";
import { gradAt, larsPartition, realParams } from "../timetravel/runs.js";

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
/** The CLI in-process (what main.ts prints, and its exit code): a child process per call cost ~1 s each. */
const larch = (...args: string[]) => runCli(args);

const dir = mkdtempSync(join(tmpdir(), "larch-cli-"));
const good = join(dir, "run.larch");
const points = recordRun(good, larsPartition(), realParams("float32"), 12, { keyframeEvery: 4, recordGrads: true, meta: { title: "cli test" } });
const bytes = readFileSync(good);

describe("larch CLI", () => {
  it("inspect prints the settings and a table of leaves with norms and γ at a step", async () => {
    const r = await larch("inspect", good, "--step", "5");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/optimizer partition\(decay: lars, noDecay: lars\), keyframe every 4 steps, gradients recorded/);
    expect(r.stdout).toMatch(/keyframes at 0, 4, 8, 12/);
    expect(r.stdout).toMatch(/step 5: lr/);
    expect(r.stdout).toMatch(/conv\[0\]\.kernel\s+\[2, 2, 3, 3\]\s+float32/);
    const leaf = await larch("inspect", good, "--leaf", "fc.weight");
    expect(leaf.code).toBe(0);
    expect(leaf.stdout.split("\n").filter((l) => /^\d+\s/.test(l)).length).toBe(12);
  });

  it("verify says OK on a good recording (exit 0)", async () => {
    const r = await larch("verify", good);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/12 steps replayed, 4 keyframes identical/);
  });

  it("diff of two steps lists the differing leaves (exit 1), of one step with itself nothing (exit 0)", async () => {
    const d = await larch("diff", `${good}@3`, `${good}@9`, "--leaf", "fc.weight");
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(/params\.fc\.weight\s+\[3, 4\]\s+12/);
    expect((await larch("diff", `${good}@6`, `${good}@6`)).code).toBe(0);
    // a checkpoint file and a step of the recording: the same state
    const ckpt = join(dir, "step7.safetensors");
    writeFileSync(ckpt, E.getOrElseW(() => new Uint8Array())(encodeState(points[7])));
    const same = await larch("diff", ckpt, `${good}@7`);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/identical/);
  });

  it("checkpoint writes the state at a step, which decodes to exactly that state", async () => {
    const out = join(dir, "at5.safetensors");
    const r = await larch("checkpoint", `${good}@5`, "-o", out);
    expect(r.code).toBe(0);
    const decoded = decodeState(readFileSync(out));
    expect(E.isRight(decoded) && decoded.right.meta).toMatchObject({ step: 5, branch: 0, optimizer: { name: "partition" } });
    expect((await larch("diff", out, `${good}@5`)).code).toBe(0);
    expect((await larch("checkpoint", `${good}@5`)).stderr).toMatch(/-o state.safetensors/);
  });

  it("report writes the HTML report", async () => {
    const out = join(dir, "report.html");
    const r = await larch("report", good, "-o", out);
    expect(r.code).toBe(0);
    expect(readFileSync(out, "utf8")).toMatch(/cli test/);
  });

  it("a corrupted recording: exit 2, with the frame and byte on stderr", async () => {
    const bad = join(dir, "corrupt.larch");
    const copy = Buffer.from(bytes);
    const middle = Math.floor(copy.length / 2);
    copy[middle] = copy[middle]! ^ 0x10;
    writeFileSync(bad, copy);
    for (const cmd of ["inspect", "verify"]) {
      const r = await larch(cmd, bad);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/fails its CRC-32 check: the file is corrupted there/);
    }
    // --quick reads only the small frames: the stats are intact, the damaged frame is never read
    expect((await larch("inspect", bad, "--quick")).code).toBe(0);
  });

  it("a cut-short recording: exit 2 saying so; --allow-truncated reads the intact part", async () => {
    const cut = join(dir, "cut.larch");
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    const r = await larch("inspect", cut);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ends inside frame .* stopped while writing/);
    const partial = await larch("inspect", cut, "--allow-truncated");
    expect(partial.code).toBe(0);
    expect(partial.stdout).toMatch(/cut short at byte \d+/);
    expect(partial.stdout).toMatch(/unfinished/);
  });

  it("a run whose params were changed outside the optimizer: verify exits 1 naming the step and leaf", async () => {
    const path = join(dir, "clipped.larch");
    const opt = larsPartition();
    const rec = E.getOrElseW(() => null)(openRecording(path, opt, realParams("float32"), { keyframeEvery: 4, recordGrads: true }));
    let params: Tree = realParams("float32");
    let state = E.getOrElseW(() => null)(opt.init(params));
    for (let t = 0; t < 6; t++) {
      const [u, s] = E.getOrElseW(() => [params, state] as const)(rec!.step(gradAt(params, t), state, params));
      params = E.getOrElseW(() => params)(applyUpdates(params, u));
      // step 2 clips the params by half behind the optimizer's back
      if (t === 2)
        params = E.getOrElseW(() => params)(
          mapTrees([params], ["params"], ([p]) => E.right(leafOf(allocate(dtypeOf(p!), denseValues(p!).length).map((_, i) => denseValues(p!)[i]! / 2), p!.shape))),
        );
      state = s;
    }
    rec!.close();
    const r = await larch("verify", path);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`DIVERGES at step 3 of branch 0, leaf ${"conv\\[0\\]\\.kernel"}: paramNorm recorded`));
  });

  it("main.ts, as a child process: prints runCli's output and exits with its code", () => {
    const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
    const r = spawnSync(tsx, [main, "diff", `${good}@3`, `${good}@9`], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/leaves differ/);
  });

  it("larch COMMAND --help and larch help COMMAND print that command's usage (exit 0); --version the version", async () => {
    for (const cmd of ["inspect", "diff", "verify", "report", "checkpoint"]) {
      const a = await larch(cmd, "--help");
      const b = await larch("help", cmd);
      expect([a.code, b.code]).toEqual([0, 0]);
      expect(a.stdout).toBe(b.stdout);
      expect(a.stdout).toMatch(new RegExp(`^usage: larch ${cmd} `));
    }
    expect((await larch("help")).stdout).toMatch(/larch help COMMAND/);
    expect((await larch("help", "nope")).code).toBe(2);
    const version = await larch("--version");
    expect(version.code).toBe(0);
    expect(version.stdout).toBe(JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8")).version);
  });

  it("a step written FILE@t where the command takes --step (or no step): exit 2 with the command to type", async () => {
    const r = await larch("inspect", `${good}@5`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`did you mean: larch inspect ${good} --step 5`);
    expect((await larch("verify", `${good}@5`)).stderr).toContain(`did you mean: larch verify ${good}`);
    expect((await larch("report", `${good}@5:1`, "-o", join(dir, "r.html"))).stderr).toContain(`--branch 1`);
  });

  it("diff of a recording without @step says to name a step", async () => {
    const r = await larch("diff", good, `${good}@3`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a recording, not a checkpoint: name a step of it as .*run\.larch@step/);
  });

  it("--optimizer MODULE.js: verify and checkpoint a run whose transformation larch cannot rebuild", async () => {
    const custom = (await import("./modules/customOptimizer.js")).default;
    const path = join(dir, "custom.larch");
    recordRun(path, custom, realParams("float32"), 6, { keyframeEvery: 3, recordGrads: true });
    const module = fileURLToPath(new URL("./modules/customOptimizer.ts", import.meta.url));
    const without = await larch("verify", path);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/cannot rebuild .*--optimizer MODULE\.js/);
    const verified = await larch("verify", path, "--optimizer", module);
    expect([verified.code, verified.stderr]).toEqual([0, ""]);
    expect(verified.stdout).toMatch(/6 steps replayed, 3 keyframes identical/);
    expect((await larch("checkpoint", `${path}@4`, "-o", join(dir, "custom4.safetensors"))).stderr).toMatch(/--optimizer/);
    const written = await larch("checkpoint", `${path}@4`, "-o", join(dir, "custom4.safetensors"), "--optimizer", module);
    expect(written.code).toBe(0);
    // another optimizer than the recorded one, a module that exports none, a missing file: each a clear refusal
    const other = await larch("verify", path, "--optimizer", fileURLToPath(new URL("./modules/otherOptimizer.ts", import.meta.url)));
    expect(other.stderr).toMatch(/is not the one the recording was run with/);
    expect((await larch("verify", path, "--optimizer", fileURLToPath(new URL("./runs-none.ts", import.meta.url)))).stderr).toMatch(/no such file/);
    expect((await larch("verify", path, "--optimizer", fileURLToPath(new URL("../timetravel/runs.ts", import.meta.url)))).stderr).toMatch(/must export the optimizer/);
  });

  it("usage errors: exit 2 with what to do", async () => {
    expect((await larch("inspect")).stderr).toMatch(/expected one recording FILE/);
    expect((await larch("report", good)).stderr).toMatch(/-o report.html/);
    expect((await larch("frobnicate")).code).toBe(2);
    expect((await larch("inspect", good, "--step", "x")).stderr).toMatch(/--step needs a whole number/);
    expect((await larch("inspect", good, "--leaf", "nope")).stderr).toMatch(/has no leaf "nope"; its leaves are/);
    expect((await larch("diff", `${good}@99`, `${good}@1`)).stderr).toMatch(/step 99 is not in/);
  });
});
