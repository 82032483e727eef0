import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { compileWat, renderBytesModule } from "../../scripts/compile-wat.js";
import { KERNELS } from "../../scripts/kernel-list.js";

describe("committed kernel bytes", () => {
  for (const k of KERNELS) {
    it(`${k.output} is what ${k.source} compiles to`, async () => {
      const root = new URL("../../", import.meta.url);
      const source = await readFile(new URL(k.source, root), "utf8");
      const committed = await readFile(new URL(k.output, root), "utf8");
      const bytes = await compileWat(k.source, source);
      expect(committed).toBe(renderBytesModule(k.source, k.exportName, bytes));
    });
  }
});
