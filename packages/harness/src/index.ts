/** @probelab/harness's API: real kernels under QEMU virt, their profiles and builds, and the console read back into the outcome (README.md). */
export { HarnessError } from './errors.js';
export { writeCpio, gzipCpio, type CpioEntry } from './cpio.js';
export { provisionPackage } from './debian.js';
export {
  userKernelBuild,
  provisionKernel,
  staticProfile,
  kernelDefs,
  parseSourceKernel,
  registerPatch,
  sourceFacts,
  type KernelArtefacts,
} from './kernels.js';
export { buildKernel, listModules, type BuildRequest, type BuiltKernel } from './kernel-build.js';
export { addLabDrivers, labSourceDir } from './lab-tree.js';
export { pristineTree } from './source-tree.js';
export { labDrivers, type LabDrivers } from './lab-drivers.js';
export { loadMachine, machineArgs, pciFunctions, type MachineDef } from './machine.js';
export { runQemu, dumpDtb, requireQemu, wallLimit, maxWallLimit } from './qemu-run.js';
export {
  installLifetime,
  trackChild,
  withDeathSignal,
  runChild,
  startChild,
  registerTemp,
  releaseTemp,
  killChildren,
  liveChildren,
  launcherChain,
} from './lifetime.js';
export { parseConsole, dmesgEvents, outcomeFromConsole, type ParsedConsole } from './console-parser.js';
export { consoleRules, busNames, matchRule, type ConsoleRule, type RuleHit } from './console-rules.js';
export { bootScenario, baseCmdline, prepareBoot, type RealBoot, type PreparedBoot } from './real-boot.js';
export { bootCommand, shellLine, shellQuote, type QemuCommand } from './qemu-command.js';
export { buildInitramfs, type ShellGuest } from './initramfs.js';
export { discover, variantsFor, bootTiming, type DiscoveredProfile } from './discovery.js';
export {
  machineTree,
  machineDtb,
  boardCpuCounts,
  boardDtbPath,
  dumpMachineTree,
  treeDifferences,
  checkBoardMatchesQemu,
} from './boards.js';
export {
  loadProfile,
  discoveredPath,
  calibrationPath,
  readCalibration,
  calibratedTiming,
  type Calibration,
} from './profiles.js';
export { writeAtomic, writeFile, ensureDir, appendLine, fsError } from './atomic.js';
export { lockOutputDir, startRun } from './out-lock.js';
export { repoRoot, cacheDir, outDir, snapshotDir } from './paths.js';
export { sourceProfile, type SourceProfile, type SourceProfileRequest } from './source-profile.js';
export { kbuildIndex, readConfig, parseKbuildMakefile, type ObjectPlace, type Tristate } from './kbuild.js';
export { scanDriverFile, type ScannedDriver, type ScannedFile } from './driver-scan.js';
export { predictBoard, type BoardPrediction } from './board-predict.js';
export { mergeOverlay, qemuLabels, type MergedTree } from './machine-overlay.js';
