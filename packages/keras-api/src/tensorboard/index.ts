/** TensorBoard event files: the writer (shared with the `kiln` CLI), the reader, CRC-32C, weight histograms. */
export { EventFileWriter, readEventFile, tfRecord, encodeEvent, type ParsedEvent } from './event-writer.js';
export { crc32c, maskedCrc32c } from './crc32c.js';
export { defaultBucketEdges, histogramOf, type HistogramMsg } from './histogram.js';
