/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) and TFRecord's masked form:
 * ((crc >>> 15) | (crc << 17)) + 0xa282ead8, which TensorFlow's record readers check.
 */
import { reflectedCrc32 } from '@kiln/graph';

/** CRC-32C of `bytes` (crc32c('123456789') === 0xe3069283). */
export const crc32c: (bytes: Uint8Array) => number = reflectedCrc32(0x82f63b78);

/** The masked CRC-32C that TFRecord stores. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
