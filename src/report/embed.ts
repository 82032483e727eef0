/**
 * Safe embedding of text and data into an HTML page.
 * @module
 */

/** Text for HTML element content or a quoted attribute: & < > " ' become character references. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Numbers JSON cannot hold travel as `{"$num":"NaN"}`, `{"$num":"Infinity"}`, `{"$num":"-Infinity"}` and
 * `{"$num":"-0"}` (JSON writes −0 as 0).
 */
const encodeNonFinite = (value: unknown): unknown => {
  if (typeof value === "number")
    return Object.is(value, -0) ? { $num: "-0" } : Number.isFinite(value) ? value : { $num: String(value) };
  if (Array.isArray(value)) return value.map(encodeNonFinite);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeNonFinite(v)]));
  return value;
};

/**
 * JSON for the body of a `<script type="application/json">` element: every `<` is written `\u003c`
 * (so no `</script>` or `<!--` can end or alter the element), as are U+2028 and U+2029.
 * The page's script reverses the non-finite encoding with a JSON.parse reviver.
 */
export const jsonForScript = (value: unknown): string =>
  JSON.stringify(encodeNonFinite(value))
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");

/** Whether `code` can be placed verbatim inside a `<tag>…</tag>` element (it contains no `</tag`). */
export const safeToInline = (code: string, tag: "script" | "style"): boolean =>
  !code.toLowerCase().includes(`</${tag}`);
