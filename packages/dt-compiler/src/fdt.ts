/**
 * Flattened device tree (DTB) reader, the role of dtc's flattree.c: header, memory
 * reservation block, structure block and strings block, per the Devicetree Specification
 * v0.4, chapter 5. Every malformed input gives a DtError with the byte offset.
 */
import { readFileSync, statSync } from 'node:fs';
import { DtError } from './errors.js';
import { buildTree, makeNode, makeProperty, readU32, type DeviceTree, type DtNode } from './tree.js';

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;

/** Larger than any real DTB (the kernel's largest arm64 DTBs are under 1 MiB). */
export const maxDtbBytes = 32 * 1024 * 1024;
/** Nodes nested in nodes: real trees stay under 16; the simulator walks trees recursively. */
export const maxDtbDepth = 1024;

/** A DTB file's bytes: a regular file of at most maxDtbBytes, else a DtError. */
export function readDtbFile(file: string): Uint8Array {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new DtError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file });
  }
  if (!st.isFile()) throw new DtError('not a regular file', { file });
  if (st.size > maxDtbBytes)
    throw new DtError(`${st.size} bytes: larger than the limit of ${maxDtbBytes} bytes for a DTB`, { file });
  return new Uint8Array(readFileSync(file));
}

export function readDtb(bytes: Uint8Array, file = '<dtb>'): DeviceTree {
  const fail = (msg: string, offset: number): never => {
    throw new DtError(msg, { file, offset });
  };
  if (bytes.length < 40) fail(`file too short for a DTB header (${bytes.length} bytes, need 40)`, 0);
  const u32 = (off: number): number => {
    if (off + 4 > bytes.length) fail('unexpected end of DTB', off);
    return readU32(bytes, off);
  };
  if (u32(0) !== FDT_MAGIC) fail(`bad magic 0x${u32(0).toString(16)}, expected 0xd00dfeed: not a DTB`, 0);
  const totalSize = u32(4);
  const offStruct = u32(8);
  const offStrings = u32(12);
  const offRsv = u32(16);
  const version = u32(20);
  const bootCpuId = u32(28);
  const sizeStrings = u32(32);
  const sizeStruct = version >= 17 ? u32(36) : bytes.length - offStruct;
  if (totalSize > bytes.length) fail(`header totalsize ${totalSize} exceeds file size ${bytes.length}`, 4);
  if (version < 16) fail(`DTB version ${version} not supported (need 16 or later)`, 20);
  // Every block inside totalsize (dtc's flattree.c checks the same before reading a block).
  if (offStruct + sizeStruct > totalSize)
    fail(`structure block (offset ${offStruct}, ${sizeStruct} bytes) runs past totalsize ${totalSize}`, 8);
  if (offStrings + sizeStrings > totalSize)
    fail(`strings block (offset ${offStrings}, ${sizeStrings} bytes) runs past totalsize ${totalSize}`, 12);
  if (offRsv >= totalSize) fail(`memory reservation block offset ${offRsv} outside totalsize ${totalSize}`, 16);

  const rsv: Array<{ address: bigint; size: bigint }> = [];
  for (let off = offRsv; ; off += 16) {
    const address = (BigInt(u32(off)) << 32n) | BigInt(u32(off + 4));
    const size = (BigInt(u32(off + 8)) << 32n) | BigInt(u32(off + 12));
    if (address === 0n && size === 0n) break;
    rsv.push({ address, size });
  }

  const decoder = new TextDecoder();
  const cstring = (off: number, limit: number): [string, number] => {
    const end = bytes.subarray(0, Math.min(limit, bytes.length)).indexOf(0, off);
    if (end < 0) fail('unterminated string', off);
    return [decoder.decode(bytes.subarray(off, end)), end + 1];
  };

  const structEnd = offStruct + sizeStruct;
  let off = offStruct;
  let root: DtNode | null = null;
  const stack: Array<DtNode & { children: DtNode[] }> = [];
  for (;;) {
    if (off >= structEnd) fail('structure block ends without FDT_END', off);
    const token = u32(off);
    const tokenOff = off;
    off += 4;
    if (token === FDT_BEGIN_NODE) {
      const [name, next] = cstring(off, structEnd);
      off = (next + 3) & ~3;
      const parent = stack[stack.length - 1] ?? null;
      if (!parent && root) fail('second root node', tokenOff);
      const path = parent ? (parent.path === '/' ? `/${name}` : `${parent.path}/${name}`) : '/';
      const node = makeNode(name, path, parent);
      if (parent) parent.children.push(node);
      else root = node;
      stack.push(node);
      if (stack.length > maxDtbDepth)
        fail(`nodes nested more than ${maxDtbDepth} deep (limit for probelab's DTB reader)`, tokenOff);
    } else if (token === FDT_END_NODE) {
      if (!stack.pop()) fail('FDT_END_NODE without an open node', tokenOff);
    } else if (token === FDT_PROP) {
      const len = u32(off);
      const nameOff = u32(off + 4);
      off += 8;
      const node = stack[stack.length - 1];
      if (!node) fail('property outside any node', tokenOff);
      if (off + len > structEnd) fail(`property value of ${len} bytes runs past the structure block`, off);
      if (nameOff >= sizeStrings) fail(`property name offset ${nameOff} outside the strings block`, tokenOff + 8);
      const [name] = cstring(offStrings + nameOff, offStrings + sizeStrings);
      node!.properties.set(name, makeProperty(name, bytes.slice(off, off + len)));
      off = (off + len + 3) & ~3;
    } else if (token === FDT_NOP) {
      continue;
    } else if (token === FDT_END) {
      if (stack.length) fail(`FDT_END with ${stack.length} node(s) still open`, tokenOff);
      break;
    } else {
      fail(`unknown structure token 0x${token.toString(16)}`, tokenOff);
    }
  }
  if (!root) fail('no root node', offStruct);
  return buildTree(root!, bootCpuId, rsv);
}
