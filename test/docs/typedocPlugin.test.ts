/** The API reference's plugin (scripts/typedoc-larch.mjs, its rules in typedoc-larch-rules.mjs): exports grouped by area, internals apart; equations kept as blocks. */
import { describe, expect, it } from "vitest";
// @ts-expect-error a plain-JavaScript typedoc plugin, without declarations
import { equationBlocks, groupOf } from "../../scripts/typedoc-larch-rules.mjs";

type Part = { kind: string; text: string; tag?: string };
const group = groupOf as (file: string, name: string) => string;
const blocks = equationBlocks as (parts: Part[]) => Part[];

describe("the typedoc plugin", () => {
  it("groups exports by the folder that declares them, with what transform authors need under Extend", () => {
    expect(group("/r/src/optimizers/lars.ts", "lars")).toBe("Optimizers");
    expect(group("/r/src/transforms/scaleByLr.ts", "scaleByLr")).toBe("Transforms");
    expect(group("/r/src/wrappers/multiSteps.ts", "multiSteps")).toBe("Wrappers");
    expect(group("/r/src/schedules/cosineDecay.ts", "cosineDecay")).toBe("Schedules");
    expect(group("/r/src/core/tree.ts", "flatten")).toBe("Trees");
    expect(group("/r/src/core/leaf.ts", "leafOf")).toBe("Trees");
    expect(group("/r/src/timetravel/seek.ts", "seek")).toBe("Time travel");
    const internals: [string, string][] = [
      ["core/elementwise.ts", "BLOCK"],
      ["core/leaf.ts", "LIFE"],
      ["core/elementwise.ts", "planLeaves"],
      ["core/elementwise.ts", "runFused"],
      ["transforms/trustRatio.ts", "scaleKernel"],
      ["transforms/trustRatio.ts", "trustNumerator"],
      ["core/leaf.ts", "denseValues"],
      ["core/norm.ts", "l2Norm"],
      ["wrappers/noUpdates.ts", "noUpdates"],
    ];
    for (const [file, name] of internals)
      expect(group(`/r/src/${file}`, name), name).toBe("Extend");
  });

  it("renders indented equation lines as one preformatted block, escaped, links kept in place", () => {
    const link: Part = { kind: "inline-tag", tag: "@link", text: "addWeightDecay" };
    const parts: Part[] = [
      { kind: "text", text: "LARS per leaf:\n\n  d = g + λp        " },
      link,
      { kind: "text", text: "(λ)\n  γ = ‖p‖ / (‖g‖ + λ‖p‖)  (1 where a < b)\n\nand then p ← p + u." },
    ];
    const out = blocks(parts);
    const text = out.map((p) => (p.kind === "text" ? p.text : `[${p.text}]`)).join("");
    expect(text).toBe(
      'LARS per leaf:\n\n<pre class="larch-equations">d = g + λp        [addWeightDecay](λ)\nγ = ‖p‖ / (‖g‖ + λ‖p‖)  (1 where a &lt; b)</pre>\n\nand then p ← p + u.',
    );
    expect(out).toContain(link);
    // no indented lines, or indented lines inside a code fence: unchanged
    const plain: Part[] = [{ kind: "text", text: "one paragraph\nof two lines" }];
    expect(blocks(plain)).toBe(plain);
    const fenced: Part[] = [{ kind: "text", text: "```ts\n\n  const x = 1;\n```" }];
    expect(blocks(fenced)).toBe(fenced);
  });
});
