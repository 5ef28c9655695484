export { KindDevEnvironment } from "./kindDevEnvironment";
export type { CacheArgs, KindDevEnvironmentArgs, PortMappingArgs } from "./args";
export { KindDevArgumentError } from "./validate";
export { LocalImage, type LocalImageArgs } from "./localImage";
