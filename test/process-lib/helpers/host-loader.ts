// Node module hook for the process-library unit tests: the WIT import a component gets from its
// host is served by fake-host.js, a test double, so the library's pure parts run under node.
import type { ResolveHookContext } from 'node:module';

type NextResolve = (specifier: string, context: ResolveHookContext) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: ResolveHookContext, next: NextResolve) {
  if (specifier.startsWith('hyperware:process/standard'))
    return { url: new URL('./fake-host.js', import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
