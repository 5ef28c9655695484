export { KindDevEnvironment } from "./kindDevEnvironment";
export type { CacheArgs, KindDevEnvironmentArgs, PortMappingArgs } from "./args";
export { KindDevArgumentError } from "./validate";
export { LocalImage, type LocalImageArgs } from "./localImage";
export {
  runDoctor,
  runPrune,
  PruneError,
  formatDoctorReport,
  type CheckResult,
  type CheckStatus,
  type DoctorOptions,
  type DoctorReport,
  type FixOutcome,
  type ManifestDeletion,
  type PruneOptions,
  type PrunePlan,
  type PruneReport,
  type TagInfo,
} from "./doctor";
