import Module from 'node:module';
import { constants as vmConstants, Script } from 'node:vm';

/**
 * The installed program as a script to run, compiled as Node's CommonJS loader would compile it
 * but with V8's code cache (src/launcher.ts). V8 checks the cache against the source and its own
 * version and flags, and compiles from source when the cache is missing or does not match.
 */
export function programScript(file: string, source: string, cachedData: Buffer | undefined): Script {
  return new Script(Module.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    // A dynamic import() in the program resolves as it would in any CommonJS module.
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
}
