// The rows every scenario returns and the table run.ts prints (Markdown, so it can go into bench/README.md).
import type { DbKind } from './database.ts';

export interface Row {
  /** Scenario number and name, e.g. "1 acknowledgement". */
  scenario: string;
  measure: string;
  db: DbKind | '—';
  value: string;
  target?: string;
  /** Whether the target is met; undefined: a measure without a target. */
  met?: boolean;
}

export interface ScenarioResult {
  rows: Row[];
  /** Context worth printing under the table (settings, anomalies, breakdowns). */
  notes: string[];
}

const DB_NAMES: Record<Row['db'], string> = { embedded: 'embedded PostgreSQL', postgres: 'PostgreSQL', '—': '—' };

export function markdownTable(rows: Row[]): string {
  const lines = ['| scenario | measure | database | result | target | met |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**NO**';
    lines.push(`| ${r.scenario} | ${r.measure} | ${DB_NAMES[r.db]} | ${r.value} | ${r.target ?? ''} | ${met} |`);
  }
  return lines.join('\n');
}
