/**
 * One writer per recording: while a recorder (or a fork) has `FILE` open, the file `FILE.lock` (FILE with its links resolved) holds its process
 * id and host name, created exclusively, and a second writer is refused. A lock left by a process that died
 * (a crash) is stale: a writer on the same host finds that process gone and takes the lock over. A lock from
 * another host cannot be checked, so it is refused with the path to delete. Files that are not regular files
 * (a device such as /dev/null, a pipe) are not locked. Readers take no lock.
 * @module
 */
import { closeSync, lstatSync, openSync, readFileSync, realpathSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";

/** A lock held; release removes it (once). */
export interface RecordingLock {
  release(): void;
}

const NO_LOCK: RecordingLock = { release: () => undefined };

/** True when the process `pid` runs on this host (kill 0 checks without signalling; EPERM: it runs as another user). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: unknown }).code === "EPERM";
  }
};

const code = (e: unknown): unknown => (e as { code?: unknown }).code;

/** Takes the lock of the recording `path`, or a Left naming who holds it. */
export const lockRecording = (path: string): E.Either<OptimizerError, RecordingLock> => {
  let target = path;
  try {
    if (!statSync(path).isFile()) return E.right(NO_LOCK);
    target = realpathSync(path); // two symbolic links to one recording share its lock
  } catch {
    // no file yet: it will be a regular one
  }
  const lockPath = `${target}.lock`;
  const mine = `${process.pid}\n${hostname()}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, "wx");
      try {
        writeSync(fd, mine);
      } finally {
        closeSync(fd);
      }
      let released = false;
      return E.right({
        release: () => {
          if (released) return;
          released = true;
          try {
            if (readFileSync(lockPath, "utf8") === mine) unlinkSync(lockPath);
          } catch {
            // already gone
          }
        },
      });
    } catch (e) {
      if (code(e) !== "EEXIST") return E.left(optimizerError("InvalidOption", `cannot lock the recording ${path} (creating ${lockPath}): ${e instanceof Error ? e.message : String(e)}`));
    }
    let holder: string;
    try {
      if (!lstatSync(lockPath).isFile()) return E.left(optimizerError("InvalidOption", `${lockPath} is not a lock file; remove it to record into ${path}`));
      holder = readFileSync(lockPath, "utf8");
    } catch {
      continue; // released meanwhile: try again
    }
    const [pidText = "", host = ""] = holder.split("\n");
    const pid = Number(pidText);
    const stale = Number.isSafeInteger(pid) && pid > 0 && host === hostname() && !alive(pid);
    if (!stale)
      return E.left(
        optimizerError(
          "InvalidOption",
          `the recording ${path} is open in another recorder (${pid === process.pid && host === hostname() ? "in this process" : `process ${pidText || "?"} on ${host || "an unknown host"}`}): ` +
            `close it first, or record into another file (if no run is writing it, delete ${lockPath})`,
        ),
      );
    try {
      unlinkSync(lockPath); // the process that held it is gone (it crashed): the lock is stale
    } catch {
      // another writer took it over first; the next attempt sees its lock
    }
  }
  return E.left(optimizerError("InvalidOption", `cannot lock the recording ${path}: ${lockPath} keeps changing`));
};
