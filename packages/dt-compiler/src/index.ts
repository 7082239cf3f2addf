/** @probelab/dt-compiler's API: the kernel's DTS/DTB pipeline (cpp + dtc.wasm), the tree, its decoders and fw_devlink's supplier graph (README.md). */
export type { DeviceTree, DtNode, DtProperty } from './tree.js';
export { buildTree, makeNode, makeProperty, nodeIndex } from './tree.js';
export { DtError } from './errors.js';
export { readDtb, readDtbFile, maxDtbBytes } from './fdt.js';
export {
  strings,
  string,
  cells,
  u32,
  compatible,
  isAvailable,
  isAvailablePath,
  addressCells,
  sizeCells,
  reg,
  phandleList,
  phandleNodes,
  idMap,
  mapId,
  type RegEntry,
  type PhandleArgs,
  type IdMapEntry,
} from './decode.js';
export {
  supplierBindings,
  bindingsOfTree,
  type SupplierBinding,
  type SupplierTable,
  type KernelSeries,
  type BindingParser,
} from './bindings.js';
export { eachLinkOfNode, linksOfNode, supplierGraph, renderGraph, type DtLink } from './deps.js';
export { preprocess, type PreprocessOptions, type PreprocessResult } from './cpp/preprocess.js';
export {
  compileDtsFile,
  dtbToDts,
  kernelDtcFlags,
  includeDirsFor,
  type CompileOptions,
  type CompileOutput,
} from './compile.js';
export { readTreeFile, findKernelTree } from './load.js';
export { kernelTree as provisionKernelTree } from './tools/conformance.js';
export { listKernelDts, type KernelDts } from './tools/kernel-dts.js';
