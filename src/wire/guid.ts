/**
 * Schema GUIDs: 16 bytes on the wire (v1 framing), canonical lowercase 8-4-4-4-12 text everywhere else
 * (`GET /schemas/guids/{guid}`, caches). One canonical form keeps cache keys from splitting.
 */
import { RecryptError } from '../util/errors.js';

export const GUID_SIZE = 16;
const GUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** 16 bytes -> `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lowercase). */
export function formatGuid(bytes: Uint8Array): string {
  if (bytes.length !== GUID_SIZE) {
    throw new RecryptError('WIRE_BAD_HEADER', `schema GUID must be ${GUID_SIZE} bytes, got ${bytes.length}`);
  }
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Canonical text (any case) -> 16 bytes. WIRE_BAD_HEADER when not 8-4-4-4-12 hex. */
export function parseGuid(text: string): Buffer {
  if (!GUID_TEXT.test(text)) {
    throw new RecryptError('WIRE_BAD_HEADER', 'schema GUID is not in 8-4-4-4-12 hex form');
  }
  return Buffer.from(text.replaceAll('-', ''), 'hex');
}

/** Lowercase canonical form of a GUID string; WIRE_BAD_HEADER when malformed. */
export function normalizeGuid(text: string): string {
  return formatGuid(parseGuid(text));
}
