/**
 * A one-line text progress bar for stderr: `[########------------]  40%  12/30 epochs  sgd B=512 epoch 3/10  eta 2m05s`.
 * @module
 */

/** Seconds as `1h02m`, `2m05s` or `42s`. */
export const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
};

/**
 * The bar for `done` of `total` units, `width` cells wide (⌊width · done/total⌋ filled), with the percentage,
 * the counts, a label and, once something is done, the time left at the rate so far: eta = elapsed · (total − done) / done.
 */
export const progressBar = (done: number, total: number, label: string, elapsedSeconds: number, width = 24): string => {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.floor(width * fraction);
  const eta = done > 0 ? `  eta ${formatDuration((elapsedSeconds * (total - done)) / done)}` : "";
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.floor(100 * fraction)).padStart(3)}%  ${done}/${total} epochs  ${label}${eta}`;
};

/**
 * Writes progress to `stream`: on a terminal, one line redrawn in place; otherwise (a log file) a new line each time.
 */
export const progressWriter = (stream: NodeJS.WriteStream = process.stderr) => {
  const started = performance.now();
  return {
    update: (done: number, total: number, label: string) => {
      const line = progressBar(done, total, label, (performance.now() - started) / 1000);
      stream.write(stream.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
    },
    finish: () => {
      if (stream.isTTY) stream.write("\n");
    },
  };
};
