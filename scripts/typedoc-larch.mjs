/**
 * A typedoc plugin for larch's API reference:
 * - groups the exports of the one `larch` module by the folder of the file that declares them (optimizers,
 *   transforms, wrappers, schedules, trees, time travel, ...), with what transform authors need (the fused
 *   elementwise machinery, leaf life records, trust-ratio pieces, named chains) in an "Extend" group of its own,
 *   rather than one flat list with internals beside the optimizers;
 * - renders the aligned equations of doc comments (lines indented by two or more spaces after a blank line, as in
 *   `lars`) as preformatted blocks, which Markdown would otherwise run together into one paragraph.
 */
import { Comment, CommentTag, Converter, ReflectionKind } from "typedoc";
import { equationBlocks, groupOf } from "./typedoc-larch-rules.mjs";

const fixComment = (comment) => {
  if (!comment) return;
  comment.summary = equationBlocks(comment.summary);
  for (const tag of comment.blockTags) if (tag.tag !== "@example") tag.content = equationBlocks(tag.content);
};

/** @param {import("typedoc").Application} app */
export const load = (app) => {
  /** the group of each module-level export, by reflection */
  const groups = new Map();
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    const parent = reflection.parent;
    if (reflection.kindOf(ReflectionKind.Module) || !parent || !(parent.kindOf(ReflectionKind.Project) || parent.kindOf(ReflectionKind.Module))) return;
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName ?? "";
    groups.set(reflection, groupOf(file, reflection.name));
  });
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const [reflection, group] of groups) {
      const tag = new CommentTag("@group", [{ kind: "text", text: group }]);
      if (!reflection.comment && !reflection.signatures?.some((s) => s.comment)) reflection.comment = new Comment();
      for (const comment of [reflection.comment, ...(reflection.signatures ?? []).map((s) => s.comment)])
        if (comment && !comment.blockTags.some((t) => t.tag === "@group")) comment.blockTags.push(tag);
    }
    for (const r of Object.values(context.project.reflections)) {
      fixComment(r.comment);
      for (const s of r.signatures ?? []) fixComment(s.comment);
    }
  });
};
