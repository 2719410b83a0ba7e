import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CompiledMapping, compileMapping } from '../compile/compile-mapping.js';

export function examplePath(name: string): string {
  return fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
}

export function readExample(name: string): string {
  return readFileSync(examplePath(name), 'utf8');
}

/** Compiles an example mapping and fails loudly (with the issues) if it does not validate. */
export function loadExampleMapping(name: string): CompiledMapping {
  const result = compileMapping(JSON.parse(readExample(name)));
  if (!result.ok) throw new Error(`${name} does not validate: ${JSON.stringify(result.issues, null, 2)}`);
  return result.mapping;
}
