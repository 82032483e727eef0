/**
 * The package as a user gets it: `npm pack`'s tarball unpacked into a fresh project whose node_modules holds only
 * larch and the dependencies larch declares (linked from this checkout's), then imported by a plain Node process,
 * its `larch` bin run, and a TypeScript consumer compiled against its types (no test runner, no paths mapping).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const built = existsSync(`${root}/dist/index.js`);
const pkg = JSON.parse(readFileSync(`${root}/package.json`, "utf8")) as {
  files: string[];
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
};

describe("the package", () => {
  it("builds dist before it is packed (prepack), and names its license", () => {
    expect(pkg.scripts["prepack"]).toMatch(/npm run build/);
    expect(readFileSync(`${root}/LICENSE`, "utf8")).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(readFileSync(`${root}/README.md`, "utf8")).toMatch(/ESM-only/);
  });

  describe.skipIf(!built)("packed and installed into a fresh project", () => {
    const project = mkdtempSync(join(tmpdir(), "larch-consumer-"));
    const larch = join(project, "node_modules/larch");
    let files: string[] = [];

    beforeAll(() => {
      // the tarball of this checkout as built by npm test (--ignore-scripts: prepack's build has run already)
      const packed = JSON.parse(execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", project], { cwd: root, encoding: "utf8" })) as [
        { filename: string; files: { path: string }[] },
      ];
      files = packed[0].files.map((f) => f.path);
      mkdirSync(larch, { recursive: true });
      execFileSync("tar", ["-xzf", join(project, packed[0].filename), "-C", larch, "--strip-components=1"]);
      // only what larch declares as dependencies: a dependency it forgets to declare fails here as it would for a user
      for (const name of Object.keys(pkg.dependencies)) {
        const to = join(project, "node_modules", name);
        mkdirSync(dirname(to), { recursive: true });
        symlinkSync(join(root, "node_modules", name), to, "dir");
      }
      writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    });

    it("ships dist with its types, the sources its source maps name, the guides the README links to, and the license", () => {
      expect(files).toContain("dist/index.js");
      expect(files).toContain("dist/index.d.ts");
      expect(files).toContain("LICENSE");
      // every source a shipped map names is shipped
      const maps = files.filter((f) => f.endsWith(".js.map"));
      expect(maps.length).toBeGreaterThan(10);
      for (const map of maps) {
        const { sources } = JSON.parse(readFileSync(join(larch, map), "utf8")) as { sources: string[] };
        for (const s of sources) expect(existsSync(join(larch, dirname(map), s)), `${map} names ${s}`).toBe(true);
      }
      // every relative link of the README resolves inside the package
      const readme = readFileSync(join(larch, "README.md"), "utf8");
      const links = [...readme.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
      expect(links.length).toBeGreaterThan(3);
      for (const link of links) expect(existsSync(join(larch, link)), `README links to ${link}`).toBe(true);
    });

    it("imports as `larch` in plain Node ESM and steps lars()", () => {
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
      writeFileSync(join(project, "step.mjs"), script);
      const values = JSON.parse(execFileSync(process.execPath, ["step.mjs"], { cwd: project, encoding: "utf8" })) as number[];
      expect(values).toHaveLength(3);
      expect(values[0]).toBeLessThan(1); // moved against the gradient
      expect(values[1]).toBeGreaterThan(2);
    });

    it("has a `larch` bin that runs in plain Node", () => {
      expect(pkg.bin["larch"]).toBe("dist/cli/main.js");
      const usage = execFileSync(process.execPath, [join(larch, pkg.bin["larch"]!), "help"], { cwd: project, encoding: "utf8" });
      expect(usage).toMatch(/larch verify FILE/);
      expect(execFileSync(process.execPath, [join(larch, pkg.bin["larch"]!), "--version"], { encoding: "utf8" }).trim()).toBe(
        (JSON.parse(readFileSync(join(larch, "package.json"), "utf8")) as { version: string }).version,
      );
    });

    it("compiles a strict TypeScript consumer against its types (no missing declarations)", () => {
      writeFileSync(
        join(project, "consumer.ts"),
        `import ndarray from "ndarray";
import * as E from "fp-ts/lib/Either.js";
import { lars, applyUpdates, type Tree, type GradientTransformation } from "larch";
const params: Tree = { w: ndarray(new Float32Array([1, 2, 3]), [3]) };
const opt: GradientTransformation<unknown> = lars({ lr: 0.1, momentum: 0.9 });
const state = opt.init(params);
if (E.isRight(state)) {
  const step = opt.update(params, state.right, params);
  if (E.isRight(step)) console.log(applyUpdates(params, step.right[0]));
}
`,
      );
      writeFileSync(
        join(project, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, types: [], skipDefaultLibCheck: true }, files: ["consumer.ts"] }),
      );
      // larch's own .d.ts files are checked (skipLibCheck off: a TS7016 there fails), TypeScript's lib files are not
      // with TypeScript 7 (what `npm i -D typescript` installs today; typescript-7 here, beside the 5.9 typedoc needs)
      const tsc = join(root, "node_modules/typescript-7/bin/tsc");
      let out = "";
      try {
        out = execFileSync(process.execPath, [tsc, "-p", project], { cwd: project, encoding: "utf8" });
      } catch (e) {
        out = String((e as { stdout?: string }).stdout ?? e);
      }
      expect(out).toBe("");
    });
  });
});
