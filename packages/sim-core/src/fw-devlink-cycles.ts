/**
 * fw_devlink's dependency cycles (drivers/base/core.c:__fw_devlink_relax_cycles), found once over
 * the board's device nodes.
 */
import { isAvailablePath, nodeIndex, type DtNode } from '@probelab/dt-compiler';
import type { Board } from './board.js';
import type { DriverCoreParams } from './cmdline.js';
import { claimedEarly, isAncestor, noOverrides, supplierNodes, type BindingRows } from './fw-devlink-suppliers.js';

/**
 * Dependency cycles among the board's device nodes, as fw_devlink finds them when it creates
 * links (drivers/base/core.c:__fw_devlink_relax_cycles, "Fixed dependency cycle(s) with", in
 * 6.12 and in 6.1.192 by backport; trees before the backport have fw_devlink_relax_cycle, which
 * kernels.ts:sourceFacts detects in the source): every link inside a strongly connected component is made
 * SYNC_STATE_ONLY and no longer orders probing. Returns consumer node -> supplier nodes whose
 * link is relaxed. Tarjan's algorithm, iterative.
 */
export function cycleEdges(
  board: Board,
  series: BindingRows,
  params: DriverCoreParams,
  ofDeclared: ReadonlySet<string>,
  optionalOverride: Record<string, boolean> = noOverrides,
): Map<DtNode, Set<DtNode>> {
  const out = new Map<DtNode, Set<DtNode>>();
  if (params.fwDevlink === 'off') return out;
  // Device nodes by a dense index, the graph in arrays (CSR): at 100,000 nodes, maps keyed by
  // node for index, low link, stack and component cost more than finding the suppliers.
  // The dense index by the node's index in the tree (dt-compiler nodeIndex), not a map by node.
  const nodes = [...board.deviceNodes];
  const dense = new Int32Array(board.tree.nodes.length).fill(-1);
  const other = new Map<DtNode, number>();
  nodes.forEach((n, i) => {
    const t = nodeIndex(board.tree, n);
    if (t >= 0) dense[t] = i;
    else other.set(n, i);
  });
  const deviceIndexOf = (n: DtNode): number => {
    for (let x: DtNode | null = n; x; x = x.parent) {
      const t = nodeIndex(board.tree, x);
      const i = t >= 0 ? dense[t]! : (other.get(x) ?? -1);
      if (i >= 0) return i;
    }
    return -1;
  };
  const N = nodes.length;
  const first = new Int32Array(N + 1);
  const succ: number[] = [];
  for (let v = 0; v < N; v++) {
    const node = nodes[v]!;
    first[v] = succ.length;
    for (const s of supplierNodes(board.tree, node, series, params, optionalOverride)) {
      if (isAncestor(node, s.node) || !isAvailablePath(s.node) || claimedEarly(s.node, ofDeclared)) continue;
      const d = deviceIndexOf(s.node);
      if (d >= 0 && d !== v && !isAncestor(nodes[d]!, node)) succ.push(d);
    }
  }
  first[N] = succ.length;
  // Tarjan, iterative: index[v] = -1 until visited; the DFS keeps (vertex, next successor).
  const index = new Int32Array(N).fill(-1);
  const low = new Int32Array(N);
  const onStack = new Uint8Array(N);
  const comp = new Int32Array(N);
  const stack = new Int32Array(N);
  let sp = 0;
  const workV = new Int32Array(N);
  const workI = new Int32Array(N);
  const sizes: number[] = [];
  let counter = 0;
  for (let start = 0; start < N; start++) {
    if (index[start] !== -1 || first[start] === first[start + 1]) continue;
    let wp = 0;
    workV[wp] = start;
    workI[wp++] = first[start]!;
    index[start] = low[start] = counter++;
    stack[sp++] = start;
    onStack[start] = 1;
    while (wp) {
      const v = workV[wp - 1]!;
      const i = workI[wp - 1]!;
      if (i < first[v + 1]!) {
        workI[wp - 1] = i + 1;
        const w = succ[i]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack[sp++] = w;
          onStack[w] = 1;
          workV[wp] = w;
          workI[wp++] = first[w]!;
        } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      wp--;
      if (wp) {
        const p = workV[wp - 1]!;
        low[p] = Math.min(low[p]!, low[v]!);
      }
      if (low[v] === index[v]) {
        let size = 0;
        for (;;) {
          const w = stack[--sp]!;
          onStack[w] = 0;
          comp[w] = sizes.length;
          size++;
          if (w === v) break;
        }
        sizes.push(size);
      }
    }
  }
  for (let v = 0; v < N; v++) {
    if (first[v] === first[v + 1] || sizes[comp[v]!]! < 2) continue;
    for (let i = first[v]!; i < first[v + 1]!; i++) {
      const w = succ[i]!;
      if (comp[w] !== comp[v]) continue;
      const set = out.get(nodes[v]!) ?? new Set<DtNode>();
      set.add(nodes[w]!);
      out.set(nodes[v]!, set);
    }
  }
  return out;
}
