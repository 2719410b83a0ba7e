import { crc32 } from 'node:zlib';

/**
 * A minimal integration-flow archive (the layout Cloud Integration exports: manifest with
 * `Bundle-Version`, the `.iflw`, externalised parameters) as a stored, uncompressed zip. For tests
 * and contract runs: a tenant accepts it as `ArtifactContent`.
 */
export function buildIflowArchive(input: {
  id: string;
  name: string;
  version: string;
  parameters?: Record<string, string>;
}): Buffer {
  const manifest = [
    'Manifest-Version: 1.0',
    `Bundle-SymbolicName: ${input.id}; singleton:=true`,
    `Bundle-Name: ${input.name}`,
    `Bundle-Version: ${input.version}`,
    'SAP-BundleType: IntegrationFlow',
    'SAP-NodeType: IFLMAP',
    '',
  ].join('\r\n');
  const flowName = input.name.replace(/[<&"]/g, '');
  const iflow = `<?xml version="1.0" encoding="UTF-8"?>\n<bpmn2:definitions xmlns:bpmn2="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_1"><bpmn2:collaboration id="Collaboration_1" name="${flowName}"/></bpmn2:definitions>\n`;
  const parameters = Object.entries(input.parameters ?? {})
    .map(([key, value]) => `${key}=${value}\n`)
    .join('');
  return storedZip([
    ['META-INF/MANIFEST.MF', manifest],
    [`src/main/resources/scenarioflows/integrationflow/${input.id}.iflw`, iflow],
    ['src/main/resources/parameters.prop', parameters],
  ]);
}

/** A zip of uncompressed entries (method 0), enough for archives a test builds. */
function storedZip(files: Array<[string, string]>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of files) {
    const nameBytes = Buffer.from(name, 'utf8');
    const data = Buffer.from(text, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
