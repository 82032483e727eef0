/**
 * Files the benchmark reads from the project's shared directory (`../shared/bench` beside the repository; in a
 * worktree one level further up). $LARCH_SHARED_BENCH overrides the directory.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../", import.meta.url));

/** The shared bench directory, or undefined when none is found. */
export function sharedBenchDir(): string | undefined {
  const candidates = [
    process.env["LARCH_SHARED_BENCH"],
    `${REPO}../shared/bench`,
    `${REPO}../../shared/bench`,
  ].filter((c): c is string => c !== undefined);
  return candidates.find((dir) => existsSync(`${dir}/resnet50-shapes.json`));
}

/** Path of a file in the shared bench directory; the message says where it was looked for when missing. */
export function sharedBenchFile(name: string): string {
  const dir = sharedBenchDir();
  if (dir === undefined) {
    throw new Error(`cannot find ../shared/bench/${name} beside ${REPO}; set LARCH_SHARED_BENCH to its directory`);
  }
  return `${dir}/${name}`;
}
