/** The WAT kernels the repository compiles, and where their bytes are committed. */
export const KERNELS = [
  {
    source: "src/kernels/lars-leaf.wat",
    output: "src/kernels/lars-leaf-wasm-bytes.ts",
    exportName: "larsLeafWasmBase64",
  },
] as const;
