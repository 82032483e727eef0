#!/usr/bin/env node
/**
 * `larch`: inspect, diff, verify and report recordings of optimizer runs (`*.larch`) and checkpoints.
 * Exit codes: 0 success, 1 the operands differ or the run diverges, 2 an error (message on stderr).
 * @module
 */
import { runCli } from "./run.js";

const result = await runCli(process.argv.slice(2));
if (result.stdout !== "") console.log(result.stdout);
if (result.stderr !== "") console.error(result.stderr);
process.exitCode = result.code;
