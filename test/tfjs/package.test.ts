/** The built `larch/tfjs` subpath: `larch` loads nothing of TF.js, and `larch/tfjs` extends the user's own tf.Optimizer. */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const built = existsSync(`${root}/dist/index.js`) && existsSync(`${root}/dist/tfjs/index.js`);

/** Every module specifier the file at `entry` imports, transitively through relative imports (static and dynamic). */
const importGraph = (entry: string): { files: Set<string>; packages: Set<string> } => {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g)) {
      const spec = m[1]!;
      if (spec.startsWith(".")) visit(resolve(dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
};

describe("the larch/tfjs subpath", () => {
  it.skipIf(!built)("import 'larch' reaches no @tensorflow module, statically or dynamically", () => {
    const { files, packages } = importGraph(`${root}/dist/index.js`);
    expect(files.size).toBeGreaterThan(20);
    expect([...packages].filter((p) => p.includes("@tensorflow"))).toEqual([]);
    expect([...files].filter((f) => f.includes(`${"/"}tfjs${"/"}`))).toEqual([]);
    expect([...importGraph(`${root}/dist/tfjs/index.js`).packages]).toContain("@tensorflow/tfjs-core");
  });

  it.skipIf(!built)("is exported with its types, and tfjs-core is an optional peer", () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, "utf8")) as {
      exports: Record<string, { types: string; import: string }>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional: boolean }>;
      dependencies: Record<string, string>;
    };
    expect(pkg.exports["./tfjs"]).toEqual({ types: "./dist/tfjs/index.d.ts", import: "./dist/tfjs/index.js" });
    expect(existsSync(`${root}/${pkg.exports["./tfjs"]!.types}`)).toBe(true);
    expect(pkg.peerDependencies["@tensorflow/tfjs-core"]).toMatch(/^>=\s*4/);
    expect(pkg.peerDependenciesMeta["@tensorflow/tfjs-core"]?.optional).toBe(true);
    expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith("@tensorflow"))).toEqual([]);
  });

  it.skipIf(!built)("in plain Node with @tensorflow/tfjs: a subclass of the user's tf.Optimizer, one engine, model.fit trains", () => {
    const script = `
      import * as tf from "@tensorflow/tfjs";
      import { sgd } from "larch";
      import { larchOptimizer, LarchOptimizer } from "larch/tfjs";
      await tf.setBackend("cpu");
      const optimizer = larchOptimizer(sgd({ lr: 0.1, momentum: 0.9 }));
      const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
      model.compile({ optimizer, loss: "meanSquaredError" });
      const h = await model.fit(tf.ones([8, 2]), tf.zeros([8, 1]), { epochs: 3, batchSize: 4, verbose: 0 });
      console.log(JSON.stringify({
        subclass: Object.getPrototypeOf(LarchOptimizer) === tf.Optimizer,
        registered: tf.serialization.SerializationMap.getMap().classNameMap["LarchOptimizer"]?.[0] === LarchOptimizer,
        steps: optimizer.step,
        falling: h.history.loss[2] < h.history.loss[0],
      }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual({ subclass: true, registered: true, steps: 6, falling: true });
  });

  it.skipIf(!built)("in plain Node with tfjs-core and the cpu backend alone: applyGradients steps the variables", () => {
    const script = `
      import * as tf from "@tensorflow/tfjs-core";
      import "@tensorflow/tfjs-backend-cpu";
      import { sgd } from "larch";
      import { larchOptimizer } from "larch/tfjs";
      await tf.setBackend("cpu");
      const v = tf.variable(tf.tensor1d([1, 2]), true, "core/v");
      const optimizer = larchOptimizer(sgd({ lr: 0.5 }));
      optimizer.applyGradients({ "core/v": tf.tensor1d([1, -2]) });
      console.log(JSON.stringify({ v: Array.from(v.dataSync()), subclass: optimizer instanceof tf.Optimizer }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual({ v: [0.5, 3], subclass: true });
  });
});
