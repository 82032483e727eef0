/** docs/time-travel.md: its tour is the example file verbatim, and the example runs and says what the guide shows. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("the time-travel guide", () => {
  const guide = readFileSync(join(root, "docs/time-travel.md"), "utf8");
  const tour = readFileSync(join(root, "examples/timetravel/tour.ts"), "utf8");

  it("shows the tour exactly as it is in examples/timetravel/tour.ts", () => {
    expect(guide).toContain("```ts\n" + tour + "```");
  });

  it("its tour records, seeks, forks, diffs and verifies", () => {
    const out = execFileSync(join(root, "node_modules/.bin/tsx"), [join(root, "examples/timetravel/tour.ts"), join(mkdtempSync(join(tmpdir(), "larch-tour-")), "tour.larch")], {
      cwd: root,
      encoding: "utf8",
    });
    expect(out).toMatch(/branches: 0 \(steps 0\.\.29\), 1 \(steps 15\.\.29\)/);
    expect(out).toMatch(/params\.w: 4 values differ/);
    expect(out).toMatch(/verify: OK/);
  });
});
