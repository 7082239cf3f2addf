/**
 * A scenario file of either kind, read once (bounded, see input-limits.ts) and told apart by its
 * content: a board scenario (board-scenario.ts) has a top-level `board:`, a QEMU virt scenario
 * (scenario.ts) does not.
 */
import { readInputFile } from './errors.js';
import { isBoardScenarioText, parseBoardScenario, type BoardScenario } from './board-scenario.js';
import { parseScenario, type Scenario } from './scenario.js';

export type AnyScenario = { kind: 'board'; scenario: BoardScenario } | { kind: 'qemu'; scenario: Scenario };

export function loadAnyScenario(file: string): AnyScenario {
  const text = readInputFile(file, 'scenario');
  return isBoardScenarioText(text)
    ? { kind: 'board', scenario: parseBoardScenario(text, file) }
    : { kind: 'qemu', scenario: parseScenario(text, file) };
}
