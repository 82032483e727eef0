/**
 * Every public symbol is documented: the TypeScript compiler loads src/index.ts and src/tfjs/index.ts (the
 * `larch/tfjs` subpath), follows their re-exports,
 * and each exported function (declared or a const holding one) and class must have a doc comment with an
 * `@example`; every other export (interface, type alias, constant, enum) must have a doc comment.
 */
import { fileURLToPath } from "node:url";
import path from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

interface PublicSymbol {
  readonly name: string;
  readonly file: string;
  readonly kind: "function" | "class" | "interface" | "type" | "const" | "enum";
  readonly documented: boolean;
  readonly hasExample: boolean;
  /** A const whose type came out any or unknown: its type needs a declaration the program left out. */
  readonly untyped: boolean;
}

function kindOf(decl: ts.Declaration, checker: ts.TypeChecker, symbol: ts.Symbol): PublicSymbol["kind"] | undefined {
  if (ts.isFunctionDeclaration(decl)) return "function";
  if (ts.isClassDeclaration(decl)) return "class";
  if (ts.isInterfaceDeclaration(decl)) return "interface";
  if (ts.isTypeAliasDeclaration(decl)) return "type";
  if (ts.isEnumDeclaration(decl)) return "enum";
  if (ts.isVariableDeclaration(decl)) {
    const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
    return type.getCallSignatures().length > 0 ? "function" : "const";
  }
  return undefined;
}

/** The exported symbols of the package's entry points, re-exports resolved to the declarations they name. */
function publicSymbols(): PublicSymbol[] {
  const configPath = path.join(root, "tsconfig.build.json");
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (config === undefined) throw new Error(`cannot read ${configPath}`);
  const entries = ["src/index.ts", "src/tfjs/index.ts"].map((file) => path.join(root, file));
  // one program of larch's own sources, without the packages they import (noResolve, no @types): parsing those
  // (tfjs-core's and Node's declarations, 500 files) was two thirds of the cost, and only a const's type is asked
  // for, and `untyped` checks that each was found without them
  const program = ts.createProgram(config.fileNames, { ...config.options, noEmit: true, noResolve: true, types: [] });
  const checker = program.getTypeChecker();
  return entries.flatMap((entry) => entrySymbols(checker, checker.getSymbolAtLocation(program.getSourceFile(entry)!)!));
}

/** The exported symbols of one entry point. */
function entrySymbols(checker: ts.TypeChecker, moduleSymbol: ts.Symbol): PublicSymbol[] {
  const found: PublicSymbol[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decls = symbol.declarations ?? [];
    const decl = decls[0];
    if (decl === undefined) continue;
    const kind = kindOf(decl, checker, symbol);
    if (kind === undefined) continue;
    // a function with overloads is documented if any of its signatures is
    const documented = decls.some((d) => ts.getJSDocCommentsAndTags(d).some((doc) => ts.isJSDoc(doc) && ts.getTextOfJSDocComment(doc.comment)?.trim()));
    const hasExample = decls.some((d) => ts.getJSDocTags(d).some((tag) => tag.tagName.text === "example" && ts.getTextOfJSDocComment(tag.comment)?.trim()));
    const untyped = ts.isVariableDeclaration(decl) && (checker.getTypeOfSymbolAtLocation(symbol, decl).flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) !== 0;
    found.push({ name: exported.name, file: path.relative(root, decl.getSourceFile().fileName), kind, documented, hasExample, untyped });
  }
  return found;
}

describe("the public API's doc comments", () => {
  // built in a hook, not while collecting: the time is then the file's, and vitest schedules the file by it
  let symbols: PublicSymbol[] = [];
  beforeAll(() => {
    symbols = publicSymbols();
  });
  const list = (xs: readonly PublicSymbol[]) => xs.map((s) => `${s.name} (${s.kind}, ${s.file})`).sort();

  it("are read from a real export list, every const's type known (function or not)", () => {
    expect(list(symbols.filter((s) => s.untyped)), "consts typed any or unknown without the packages' declarations").toEqual([]);
    expect(symbols.length).toBeGreaterThan(50);
    expect(symbols.map((s) => s.name)).toEqual(expect.arrayContaining(["lars", "chain", "applyUpdates", "GradientTransformation", "seek", "larchOptimizer", "treeFromTensors"]));
  });

  it("document every exported symbol", () => {
    const missing = list(symbols.filter((s) => !s.documented));
    expect(missing, `exports without a doc comment:\n  ${missing.join("\n  ")}`).toEqual([]);
  });

  it("give every exported function and class an @example", () => {
    const missing = list(symbols.filter((s) => (s.kind === "function" || s.kind === "class") && !s.hasExample));
    expect(missing, `functions and classes without an @example:\n  ${missing.join("\n  ")}`).toEqual([]);
  });
});
