/** The built package, as a user's plain Node process imports it by name (no TypeScript, no test runner). */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("the built package", () => {
  it.skipIf(!existsSync(`${root}/dist/index.js`))("imports as `larch` in plain Node ESM and steps lars()", () => {
    const script = `
      import ndarray from "ndarray";
      import * as E from "fp-ts/lib/Either.js";
      import { lars, applyUpdates } from "larch";
      const params = { w: ndarray(new Float32Array([1, 2, 3]), [3]) };
      const grads = { w: ndarray(new Float32Array([0.1, -0.2, 0.3]), [3]) };
      const opt = lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
      const state = opt.init(params);
      if (E.isLeft(state)) throw new Error(state.left.message);
      const step = opt.update(grads, state.right, params);
      if (E.isLeft(step)) throw new Error(step.left.message);
      const next = applyUpdates(params, step.right[0]);
      console.log(JSON.stringify(Array.from(next.right.w.data)));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    const values = JSON.parse(out) as number[];
    expect(values).toHaveLength(3);
    expect(values[0]).toBeLessThan(1); // moved against the gradient
    expect(values[1]).toBeGreaterThan(2);
  });
  it.skipIf(!existsSync(`${root}/dist/cli/main.js`))("has a `larch` bin that runs in plain Node", () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, "utf8")) as { bin: Record<string, string> };
    expect(pkg.bin["larch"]).toBe("dist/cli/main.js");
    const usage = execFileSync(process.execPath, [`${root}/${pkg.bin["larch"]}`, "help"], { cwd: root, encoding: "utf8" });
    expect(usage).toMatch(/larch verify FILE/);
  });
});
