/** Allocations of at most this many bytes share slabs; larger ones get a buffer of their own. */
export const pooledBytesMax = 512;
/** Slab size: 16 allocations of the largest pooled size, so a slab is filled before it is dropped. */
const slabBytes = 8192;
let slab = new ArrayBuffer(slabBytes);
let slabOffset = 0;

/**
 * A new zero-filled `Uint8Array` of `length` bytes. Small ones are carved out of shared slabs, as
 * Node's own buffer pool does: V8 gives every typed array of more than 64 bytes a backing store of
 * its own, whose allocation and collection cost several times what is written into it (measured
 * with `node --cpu-prof` on `npm run bench:node`, for storage copies and session entries alike).
 * A pooled array is a view of its slab: code that reaches for `.buffer` must use `byteOffset` and
 * `byteLength`, as it must for any view. A slab is freed once every array in it is; log entries
 * are dropped in log order, so slabs go in order too.
 */
export function pooledBytes(length: number): Uint8Array {
  if (length > pooledBytesMax) return new Uint8Array(length);
  if (slabOffset + length > slabBytes) {
    slab = new ArrayBuffer(slabBytes);
    slabOffset = 0;
  }
  const bytes = new Uint8Array(slab, slabOffset, length);
  // Eight-byte alignment keeps a later DataView over the array on aligned addresses.
  slabOffset += (length + 7) & ~7;
  return bytes;
}
