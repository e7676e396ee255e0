// Errors `kit build` raises. Each names the file or flag at fault and says what to do next
// (the `hint`, printed on its own line by the commands). metadata.json errors come from
// src/package/metadata.ts (MetadataError).

import { KitError } from '../cli/errors.js';

export class BuildError extends KitError {
  override name = 'BuildError';

  constructor(message: string, hint?: string) {
    super(message, { hint });
  }
}

/** The package directory does not look like a package (no metadata.json, no pkg/). */
export class PackageLayoutError extends BuildError {
  override name = 'PackageLayoutError';
}

/** A WIT file does not parse, or the chosen world does not exist. */
export class WitError extends BuildError {
  override name = 'WitError';
}

/** TypeScript type errors or esbuild errors in a process's sources. `diagnostics` are `file:line:col: message`. */
export class CompileError extends BuildError {
  override name = 'CompileError';
  readonly diagnostics: string[];

  constructor(process: string, tool: string, diagnostics: string[]) {
    super(`process ${process}: ${tool} found ${diagnostics.length} error(s):\n${diagnostics.join('\n')}`);
    this.diagnostics = diagnostics;
  }
}

/** A toolchain a process needs (cargo target, componentize-py, npm) is not installed. */
export class ToolchainError extends BuildError {
  override name = 'ToolchainError';
}

/** componentize, cargo, componentize-py or a UI build failed. */
export class StepFailedError extends BuildError {
  override name = 'StepFailedError';
}

/** A declared dependency's API could not be found locally or on the node. */
export class DependencyError extends BuildError {
  override name = 'DependencyError';
}

/** Flags that contradict each other. */
export class FlagError extends BuildError {
  override name = 'FlagError';
}
