// avsc does not bound its reads by the buffer: a garbled block count can make it loop or allocate until
// the process dies. The Avro codec checks a payload's structure first (compileAvroValidator), so such
// records fail as FORMAT_DECODE. Decoding runs in a child process: a regression times out, not the suite.
import { describe, expect, it } from 'vitest';
import { FORMATS_URL, runInChild, zz } from './avro-bytes.js';

/** Decodes in a child process: "ok <json>", the error code and message, or null when it did not finish in time. */
function decodeInChild(schema: unknown, payload: number[], timeoutMs = 10_000): Promise<string | null> {
  const code = `
    const { createAvroCodec } = await import(${JSON.stringify(FORMATS_URL)});
    const codec = createAvroCodec({ schemaType: 'AVRO', schema: ${JSON.stringify(JSON.stringify(schema))} });
    try {
      const value = codec.decode(Buffer.from(${JSON.stringify(Buffer.from(payload).toString('hex'))}, 'hex'));
      process.stdout.write('ok ' + JSON.stringify(value));
    } catch (err) {
      process.stdout.write(String(err.code) + ' ' + err.message);
    }
  `;
  return runInChild(code, timeoutMs);
}

const holder = (items: unknown) => ({ type: 'record', name: 'Holder', fields: [{ name: 'xs', type: { type: 'array', items } }, { name: 's', type: 'string' }] });

describe('Avro decode of garbled block counts', () => {
  it('decodes well-formed payloads as before (controls)', async () => {
    // Two blocks: a sized one (count -1, 2 bytes) holding a one-entry map, then a plain one.
    const mapItem = [...zz(1n), ...zz(1n), 0x6b, ...zz(5n), ...zz(0n)]; // {k: 5}
    const sized = [...zz(-1n), ...zz(BigInt(mapItem.length)), ...mapItem, ...zz(0n), ...zz(1n), 0x61];
    expect(await decodeInChild(holder({ type: 'map', values: 'int' }), sized)).toBe('ok {"xs":[{"k":5}],"s":"a"}');
    expect(await decodeInChild(holder('null'), [...zz(3n), ...zz(0n), ...zz(1n), 0x61])).toBe('ok {"xs":[null,null,null],"s":"a"}');
  }, 40_000);

  it('refuses a sized block whose items run past its size and the payload (avsc would read 2^52 map entries)', async () => {
    const payload = [...zz(-1n), ...zz(0n), ...zz(2n ** 52n)];
    const out = await decodeInChild(holder({ type: 'map', values: 'int' }), payload);
    expect(out).not.toBeNull();
    expect(out).toMatch(/^FORMAT_DECODE /);
  }, 40_000);

  it('refuses 2^62 items that take no bytes (avsc would build that array)', async () => {
    const out = await decodeInChild(holder('null'), [...zz(2n ** 62n), ...zz(0n), ...zz(1n), 0x61]);
    expect(out).not.toBeNull();
    expect(out).toMatch(/^FORMAT_DECODE /);
  }, 40_000);

  it('keeps the reasons readers know: truncated buffer, trailing data', async () => {
    expect(await decodeInChild(holder('int'), [...zz(2n), 2])).toMatch(/^FORMAT_DECODE .*truncated buffer/);
    expect(await decodeInChild(holder('int'), [...zz(0n), ...zz(1n), 0x61, 9])).toMatch(/^FORMAT_DECODE .*trailing data/);
  }, 40_000);
});
