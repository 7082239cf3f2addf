/**
 * Deterministic input mutation for the fuzzer: input `index` of a target is a function of the
 * seed, the target's name and the index alone, so any failure is reproduced by (seed, index)
 * without replaying the inputs before it. Mutations are the usual byte-level ones (flip, insert,
 * delete, duplicate a chunk, splice another corpus input, truncate) plus the target's dictionary
 * of tokens that mean something to its parser (brackets, directives, numbers at the edges).
 */

/** mulberry32: small, fast, and the same everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const edgeNumbers = [
  '0',
  '-1',
  '1',
  '4294967295',
  '4294967296',
  '0xffffffff',
  '0x7fffffff',
  '18446744073709551615',
  '9999999999999999999999',
  '1e309',
  'NaN',
  '.inf',
  '-0',
];

/** The `index`-th input for a target: 1 to 8 stacked mutations of one corpus input. */
export function mutant(
  corpus: readonly Uint8Array[],
  dict: readonly string[],
  seed: number,
  target: string,
  index: number,
  maxBytes: number,
): Uint8Array {
  const r = rng(seed ^ hashString(target) ^ Math.imul(index + 1, 0x9e3779b1));
  const int = (n: number): number => Math.floor(r() * n);
  let b = Buffer.from(corpus[int(corpus.length)]!);
  const words = [...dict, ...edgeNumbers].map((w) => Buffer.from(w, 'latin1'));
  const ins = (at: number, xs: Uint8Array): void => {
    b = Buffer.concat([b.subarray(0, at), xs, b.subarray(at)]);
  };
  const repeat = (x: Uint8Array, times: number): Buffer => {
    const n = Math.max(1, Math.min(times, Math.floor((maxBytes - b.length) / Math.max(1, x.length))));
    return Buffer.concat(Array.from({ length: n }, () => x));
  };
  const n = 1 + int(8);
  for (let k = 0; k < n; k++) {
    const at = int(b.length + 1);
    switch (int(10)) {
      case 0: // flip a bit
        if (b.length) b[int(b.length)]! ^= 1 << int(8);
        break;
      case 1: // a random byte
        ins(at, Buffer.of(int(256)));
        break;
      case 2: // delete a chunk
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(64))]);
        break;
      case 3: {
        // duplicate a chunk, up to 32 times (grows nesting and repeats)
        const chunk = Buffer.from(b.subarray(at, at + 1 + int(256)));
        ins(at, repeat(chunk, 1 << int(6)));
        break;
      }
      case 4: {
        // splice in a piece of another input
        const o = corpus[int(corpus.length)]!;
        const from = int(o.length);
        ins(at, o.subarray(from, from + 1 + int(512)));
        break;
      }
      case 5: // truncate
        b = b.subarray(0, at);
        break;
      case 6: // a dictionary token
        ins(at, words[int(words.length)]!);
        break;
      case 7: {
        // overwrite in place with a token (keeps offsets of binary formats)
        const w = words[int(words.length)]!;
        if (b.length > w.length) w.copy(b, int(b.length - w.length));
        break;
      }
      case 8: // a token repeated (deep nesting, long runs)
        ins(at, repeat(words[int(words.length)]!, 1 + int(3000)));
        break;
      case 9: {
        // a 32-bit big-endian field set to an edge value (DTB header and cells)
        const v = [0, 1, 2, 3, 9, 0x7fffffff, 0xffffffff, 0x80000000, b.length, b.length + 4][int(10)]!;
        if (b.length >= 4) b.writeUInt32BE(v >>> 0, int(Math.floor(b.length / 4)) * 4);
        break;
      }
    }
    if (b.length > maxBytes) b = b.subarray(0, maxBytes);
  }
  return new Uint8Array(b);
}
