/**
 * The rules of larch's typedoc plugin (scripts/typedoc-larch.mjs), apart from typedoc so they can be tested
 * without loading it: the group an export belongs to, and equation lines as preformatted blocks.
 */
/**
 * Exports for transform authors, wherever they are declared: among them the typed per-leaf helpers (flat storage,
 * sizes, norms, −0 updates, the moment options' check), which take leaves and arrays larch made and give NaN, an
 * empty array or an empty record for junk rather than a Left. A user's program makes leaves (leafOf, copyLeaf) and
 * reads their dtype (dtypeOf), which stay under Trees.
 */
const EXTEND_NAMES = new Set([
  "LIFE", "trustNumerator", "scaleKernel", "TrustNumeratorOptions", "BlockKernel", "namedChain", "failing",
  "allocate", "denseValues", "isRowMajor", "sizeOf", "sumOfSquares", "sumOfProducts", "l2Norm", "noUpdates", "momentOptionsProblem",
]);
const EXTEND_FILES = [/\/core\/elementwise\.ts$/, /\/core\/expression\.ts$/, /\/core\/defineElementwise\.ts$/, /\/core\/builders\.ts$/, /\/optimizers\/namedChain\.ts$/];

/** The group of an export declared in `file`. */
export const groupOf = (file, name) => {
  if (EXTEND_NAMES.has(name) || EXTEND_FILES.some((re) => re.test(file))) return "Extend";
  if (/\/optimizers\//.test(file)) return "Optimizers";
  if (/\/transforms\//.test(file)) return "Transforms";
  if (/\/wrappers\//.test(file)) return "Wrappers";
  if (/\/schedules\//.test(file)) return "Schedules";
  if (/\/core\/(tree|leaf|norm)\.ts$/.test(file)) return "Trees";
  if (/\/core\/errors\.ts$/.test(file)) return "Errors";
  if (/\/core\//.test(file)) return "Transformations";
  if (/\/timetravel\//.test(file)) return "Time travel";
  if (/\/kernels\//.test(file)) return "Kernels";
  if (/\/tfjs\//.test(file)) return "TensorFlow.js";
  return "Other";
};

const escapeHtml = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * The comment parts with every run of indented lines (after a blank line, outside code fences) wrapped in a
 * `<pre>`: its text HTML-escaped (an HTML block is not Markdown), its {@link}s kept (typedoc renders them as <a>).
 */
export const equationBlocks = (parts) => {
  // one string, each non-text part a placeholder, so lines can be seen across parts
  const holders = [];
  const joined = parts.map((p) => (p.kind === "text" ? p.text : (holders.push(p), `\u0000${holders.length - 1}\u0000`))).join("");
  const lines = joined.split("\n");
  const out = [];
  let fenced = false;
  let inBlock = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*```/.test(line)) fenced = !fenced;
    const indented = !fenced && /^ {2,}\S/.test(line) && !line.includes("\u0000c");
    if (!inBlock && indented && (i === 0 || lines[i - 1].trim() === "")) {
      inBlock = true;
      out.push(`<pre class="larch-equations">${escapeHtml(line.replace(/^ {2}/, ""))}`);
      continue;
    }
    if (inBlock && indented) {
      out.push(escapeHtml(line.replace(/^ {2}/, "")));
      continue;
    }
    if (inBlock) {
      out[out.length - 1] += "</pre>";
      inBlock = false;
    }
    out.push(line);
  }
  if (inBlock) out[out.length - 1] += "</pre>";
  const text = out.join("\n");
  if (text === joined) return parts;
  // back to parts: text between placeholders, the held parts in their places
  const result = [];
  for (const [i, piece] of text.split("\u0000").entries()) {
    if (i % 2 === 0) {
      if (piece !== "") result.push({ kind: "text", text: piece });
    } else result.push(holders[Number(piece)]);
  }
  return result;
};
