/**
 * Targets files (`vnc.targets.yaml`): load and validate them, turn a target into bridge options
 * (asking its provider for fresh credentials), and launch the servers some targets start.
 */
export { loadTargets, parseTargets, DEFAULT_TARGETS_FILE, DEFAULT_TARGETS_YAML, EMBEDDED_TARGETS_FILE, type LoadTargetsOptions, type ParseTargetsOptions } from './load.js';
export { resolveTarget, describeTarget, type ResolveTargetOptions } from './resolve.js';
export { launchTarget, type LaunchedTarget, type LaunchTargetOptions } from './launch.js';
export { LOCAL_DESKTOP_BACKGROUND, LOCAL_DESKTOP_XTERM_GEOMETRY, LOCAL_DESKTOP_XTERM_TITLE } from './local-desktop.js';
export { runProvider, type TargetProvider, type ProviderContext, type ProviderResult, type ProviderValues, type RunProviderOptions } from './provider.js';
export { VNCTargetsFileError, assertResolved, type ConfigProblem, type SourceLocation } from './problems.js';
export { inYamlTerms, yamlTermsMessage } from './yaml-terms.js';
export { DEFAULT_COMPARE as DEFAULT_TARGET_COMPARE, DEFAULT_DEFAULTS as DEFAULT_TARGET_DEFAULTS } from './schema.js';
export { MAX_ALIAS_COUNT } from './document.js';
export { MAX_MATRIX_COMBINATIONS } from './matrix.js';
export type {
  TargetsFile,
  TargetConfig,
  TargetDefaults,
  TargetConnection,
  TcpTargetConnection,
  WebSocketTargetConnection,
  TargetCredentials,
  CertificateConfig,
  ProviderConfig,
  LaunchConfig,
  LaunchScope,
  LocalDesktopLaunch,
  CommandLaunch,
  CompareSettings,
  Quality,
} from './types.js';
