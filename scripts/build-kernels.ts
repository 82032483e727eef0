/** Compiles every WAT kernel in src/kernels to a TypeScript module of its bytes. Run: npm run build:kernels */
import { readFile, writeFile } from "node:fs/promises";
import { compileWat, renderBytesModule } from "./compile-wat.js";
import { KERNELS } from "./kernel-list.js";

for (const k of KERNELS) {
  const source = await readFile(new URL(`../${k.source}`, import.meta.url), "utf8");
  const bytes = await compileWat(k.source, source);
  await writeFile(new URL(`../${k.output}`, import.meta.url), renderBytesModule(k.source, k.exportName, bytes));
  console.log(`${k.source} -> ${k.output} (${bytes.length} bytes)`);
}
