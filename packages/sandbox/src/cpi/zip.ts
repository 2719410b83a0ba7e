import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { badRequest } from '../shared/errors.js';

/** What the emulator reads from an integration flow archive. */
export interface IflowContent {
  /** `Bundle-Version` of `META-INF/MANIFEST.MF`, when present. */
  version: string | undefined;
  /** `src/main/resources/parameters.prop` (externalised parameters), key -> value. */
  parameters: Record<string, string>;
}

const PARAMETERS = 'src/main/resources/parameters.prop';

/** A minimal but real iFlow archive (the layout Cloud Integration exports). */
export function buildIflowZip(input: {
  id: string;
  name: string;
  version: string;
  parameters?: Record<string, string>;
}): Uint8Array {
  const manifest = [
    'Manifest-Version: 1.0',
    `Bundle-SymbolicName: ${input.id}; singleton:=true`,
    `Bundle-Name: ${input.name}`,
    `Bundle-Version: ${input.version}`,
    'SAP-BundleType: IntegrationFlow',
    'SAP-NodeType: IFLMAP',
    '',
  ].join('\r\n');
  const iflow = `<?xml version="1.0" encoding="UTF-8"?>\n<bpmn2:definitions xmlns:bpmn2="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_1"><bpmn2:collaboration id="Collaboration_1" name="${input.name.replace(/[<&"]/g, '')}"/></bpmn2:definitions>\n`;
  const parameters = Object.entries(input.parameters ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
  return zipSync({
    'META-INF/MANIFEST.MF': strToU8(manifest),
    'metainfo.prop': strToU8(`description=${input.name}\n`),
    [PARAMETERS]: strToU8(parameters === '' ? '' : `${parameters}\n`),
    [`src/main/resources/scenarioflows/integrationflow/${input.id}.iflw`]: strToU8(iflow),
  });
}

/** Decodes `ArtifactContent` (base64 zip); anything that is not a readable zip is the client's 400. */
export function readArtifactContent(base64: string): { bytes: Buffer; content: IflowContent } {
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(base64)) throw badRequest('ArtifactContent must be base64');
  const bytes = Buffer.from(base64, 'base64');
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(new Uint8Array(bytes));
  } catch {
    throw badRequest('ArtifactContent is not a valid zip archive');
  }
  const manifest = files['META-INF/MANIFEST.MF'];
  const version = manifest ? /^Bundle-Version:\s*(\S+)\s*$/m.exec(strFromU8(manifest))?.[1] : undefined;
  const parameters: Record<string, string> = {};
  const prop = files[PARAMETERS];
  if (prop) {
    for (const line of strFromU8(prop).split(/\r?\n/)) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      const eq = line.indexOf('=');
      if (eq > 0) parameters[line.slice(0, eq).trim()] = line.slice(eq + 1).replace(/\\:/g, ':');
    }
  }
  return { bytes, content: { version, parameters } };
}
